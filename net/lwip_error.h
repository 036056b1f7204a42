// lwIP's err_t -> Ringlet's Error, for the queues.
#pragma once

#include "lwip/err.h"
#include "ringlet/result.h"

namespace ringlet::net {

// The Error closest to an lwIP error code (Ok for ERR_OK).
constexpr Error from_lwip(err_t e) {
    switch (e) {
    case ERR_OK: return Error::Ok;
    case ERR_MEM: case ERR_BUF: return Error::OutOfMemory;
    case ERR_TIMEOUT: return Error::TimedOut;
    case ERR_RTE: return Error::NotFound;  // no route to the host
    case ERR_INPROGRESS: case ERR_WOULDBLOCK: return Error::WouldBlock;
    case ERR_VAL: case ERR_ARG: case ERR_ISCONN: return Error::InvalidArgument;
    case ERR_USE: return Error::Exists;
    case ERR_ALREADY: return Error::Busy;
    case ERR_CONN: case ERR_ABRT: case ERR_RST: case ERR_CLSD: return Error::Closed;
    case ERR_IF: return Error::IoError;
    default: return Error::IoError;
    }
}

inline Result<void> lwip_result(err_t e) {
    if (e == ERR_OK) return {};
    return from_lwip(e);
}

}  // namespace ringlet::net
