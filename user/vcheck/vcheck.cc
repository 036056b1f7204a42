// vcheck: checks for the vector unit (RVV 1.0) as apps see it.
//   vcheck regs SEED ROUNDS  v0-v31, vl, vtype, vcsr hold a pattern of SEED
//                            across ROUNDS sleeps (run two on one hart: the
//                            kernel must switch the vector state)
//   vcheck sum               ringlet_chksum (the vector loop in an RVV build)
//                            equals the scalar algorithm on random data
// On a hart without V the first vector instruction ends the app (the
// kernel says so on the console).
#include "user/rt/parse_num.h"
#include "user/rt/syscall.h"
#include "user/vcheck/vcheck.h"

namespace {

bool str_eq(const char* a, const char* b) {
    while (*a != '\0' && *a == *b) ++a, ++b;
    return *a == *b;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace ringlet;
    if (argc == 4 && str_eq(argv[1], "regs")) {
        unsigned long seed = 0, rounds = 0;
        if (!user::parse_num(argv[2], &seed) || !user::parse_num(argv[3], &rounds)) return 2;
        return vcheck::check_registers(seed, rounds);
    }
    if (argc == 2 && str_eq(argv[1], "sum")) return vcheck::check_checksum();
    user::printf("vcheck: usage: vcheck regs SEED ROUNDS | vcheck sum\n");
    return 2;
}
