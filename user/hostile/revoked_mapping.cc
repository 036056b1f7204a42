// Maps a frame through a minted child, revokes the child, then touches the
// child's mapping: must be killed with a page fault (the mapping is gone).
#include "ringlet/cap_types.h"
#include "user/hostile/hostile.h"

using namespace ringlet;

int main(int, char**) {
    auto frame = user::frame_alloc(1);
    auto child = user::syscall(kSysCapMint, frame.value, kRightRead | kRightWrite | kRightMap);
    auto mapped = user::syscall(kSysFrameMap, child.value, 0x20000000, 3);
    if (frame.error || child.error || mapped.error) {
        user::print("hostile_revoked_mapping: setup failed\n");
        return 1;
    }
    *reinterpret_cast<volatile uint64_t*>(0x20000000) = 1;
    user::print("hostile_revoked_mapping: mapped and written; revoking\n");
    user::syscall(kSysCapRevoke, frame.value);
    *reinterpret_cast<volatile uint64_t*>(0x20000000) = 2;
    user::print("hostile_revoked_mapping: the kernel did not stop me\n");
    return 0;
}
