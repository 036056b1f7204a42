// Error <-> errno at the PDPIX C boundary (the only place errnos exist).
#pragma once

#include <errno.h>

#include "ringlet/result.h"

namespace ringlet::pdpix {

// The positive errno a demi_* function returns for e (0 for Ok).
constexpr int to_errno(Error e) {
    switch (e) {
    case Error::Ok: return 0;
    case Error::InvalidArgument: return EINVAL;
    case Error::BadFormat: return EBADMSG;
    case Error::Truncated: return EMSGSIZE;
    case Error::OutOfRange: return ERANGE;
    case Error::OutOfMemory: return ENOMEM;
    case Error::NotFound: return ENOENT;
    case Error::Exists: return EADDRINUSE;
    case Error::Full: return ENOBUFS;
    case Error::Empty: return EAGAIN;
    case Error::WouldBlock: return EAGAIN;
    case Error::TimedOut: return ETIMEDOUT;
    case Error::Busy: return EBUSY;
    case Error::Closed: return ECONNRESET;
    case Error::BadCapability: return EBADF;
    case Error::WrongType: return ENOTSOCK;
    case Error::NoRights: return EPERM;
    case Error::BadAddress: return EFAULT;
    case Error::Unsupported: return ENOTSUP;
    case Error::IoError: return EIO;
    case Error::Fault: return EFAULT;
    case Error::WrongCore: return EXDEV;
    }
    return EIO;
}

// The Error closest to a host errno (for the Linux backend).
constexpr Error from_errno(int e) {
    switch (e) {
    case 0: return Error::Ok;
    case EINVAL: return Error::InvalidArgument;
    case ENOMEM: case ENOBUFS: return Error::OutOfMemory;
    case EADDRINUSE: case EADDRNOTAVAIL: case EEXIST: return Error::Exists;
    case EAGAIN: return Error::WouldBlock;
    case ETIMEDOUT: return Error::TimedOut;
    case ECONNRESET: case EPIPE: case ECONNREFUSED: case ECONNABORTED: case ENOTCONN: return Error::Closed;
    case EBADF: return Error::BadCapability;
    case ENOTSOCK: return Error::WrongType;
    case EACCES: case EPERM: return Error::NoRights;
    case EFAULT: return Error::BadAddress;
    case EAFNOSUPPORT: case EPROTONOSUPPORT: case EOPNOTSUPP: case ENOPROTOOPT: return Error::Unsupported;
    case EMSGSIZE: return Error::Truncated;
    default: return Error::IoError;
    }
}

}  // namespace ringlet::pdpix
