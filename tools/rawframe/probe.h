// Learning where the guest's side of a TCP connection stands, for the
// out-of-order flood: send sequence_probe() (flood.h) and read the guest's
// ACK off the interface with a receiving packet socket.
#pragma once

#include <stdint.h>

#include <string>

#include "ringlet/result.h"
#include "tools/rawframe/flood.h"
#include "tools/rawframe/sender.h"

namespace ringlet::rawframe {

// The guest's snd_nxt/rcv_nxt on the connection from `host_port`: TimedOut
// if no answer came within about 5 s (the probe is sent again every 0.5 s),
// IoError if the interface cannot be read.
Result<GuestSequence> learn_sequence(Sender& sender, const std::string& ifname, const Target& t, uint16_t host_port);

}  // namespace ringlet::rawframe
