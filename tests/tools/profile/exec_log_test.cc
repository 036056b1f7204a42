#include "exec_log.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace ringlet::profile {
namespace {

// Captured from QEMU 7.2 (-icount shift=0 -singlestep -d exec,nochain) on
// Ringlet's echo: an S-mode MMIO load re-executed (cpu_io_recompile), a block
// left before its first instruction, then U-mode code with another MMIO.
constexpr const char* kQemuLog = R"(Trace 0: 0x7fe9bc8666c0 [0000000000000000/ffffffffc0208268/0020b001/ff020201] 
Trace 0: 0x7fe9bc866800 [0000000000000000/ffffffffc020826c/0020b001/ff020201] 
Trace 0: 0x7fe9bc866940 [0000000000000000/ffffffffc020826e/0020b001/ff020201] 
Trace 0: 0x7fe9bc866a80 [0000000000000000/ffffffffc0208270/0020b001/ff020201] 
cpu_io_recompile: rewound execution of TB to ffffffffc0208270
Trace 0: 0x7fe9bc866c00 [0000000000000000/ffffffffc0208270/0020b001/ff038201] 
Trace 0: 0x7fe9bc866d80 [0000000000000000/ffffffffc0208272/0020b001/ff020201] 
Stopped execution of TB chain before 0x7fe9bc866d80 [ffffffffc0208272] 
Trace 0: 0x7fe9bc866d80 [0000000000000000/ffffffffc0208272/0020b001/ff020201] 
Trace 0: 0x7fe9bc866ec0 [0000000000000000/ffffffffc0208274/0020b001/ff020201] 
Trace 0: 0x7fe9bc9a11c0 [0000000000000000/0000000000028f76/00203000/ff020201] 
Trace 0: 0x7fe9bc9a1340 [0000000000000000/0000000000028f78/00203000/ff020201] 
Trace 0: 0x7fe9bc9a1480 [0000000000000000/0000000000028f7a/00203000/ff020201] 
cpu_io_recompile: rewound execution of TB to 0000000000028f7a
Trace 0: 0x7fe9bc9a1600 [0000000000000000/0000000000028f7a/00203000/ff038201] 
Trace 0: 0x7fe9bc9a17c0 [0000000000000000/0000000000028f7c/00203000/ff020201] 
)";

struct Collect {
    std::vector<Retired> got;
    void operator()(const Retired& r) { got.push_back(r); }
};

// Feeds a whole log to a reader and keeps what it passed on.
struct LogRun {
    Collect c;
    ExecLogReader<Collect> reader{c};
    explicit LogRun(const std::string& text) {
        std::istringstream in(text);
        for (std::string line; std::getline(in, line);) reader.line(line);
        reader.finish();
    }
    std::vector<uint64_t> pcs() const {
        std::vector<uint64_t> out;
        for (const Retired& r : c.got) out.push_back(r.pc);
        return out;
    }
};

TEST(ParseExecLine, TraceLineGivesPcAndMode) {
    auto p = parse_exec_line("Trace 0: 0x7fe9bc866a80 [0000000000000000/ffffffffc0208270/0020b001/ff020201] ");
    EXPECT_EQ(p.kind, LineKind::Trace);
    EXPECT_EQ(p.insn.pc, 0xffffffffc0208270u);
    EXPECT_EQ(p.insn.mode, Mode::Supervisor);
    p = parse_exec_line("Trace 0: 0x7fe9bc9a1480 [0000000000000000/0000000000028f7a/00203000/ff020201] ");
    EXPECT_EQ(p.insn.mode, Mode::User);
    // M-mode (MMU index 3), as OpenSBI runs; with a symbol name after it.
    p = parse_exec_line("Trace 0: 0x7f00 [0000000000000000/0000000080001234/00000003/ff020201] sbi_trap");
    EXPECT_EQ(p.kind, LineKind::Trace);
    EXPECT_EQ(p.insn.pc, 0x80001234u);
    EXPECT_EQ(p.insn.mode, Mode::Machine);
}

TEST(ParseExecLine, UndoLinesAndOthers) {
    auto p = parse_exec_line("cpu_io_recompile: rewound execution of TB to 0000000000028f7a");
    EXPECT_EQ(p.kind, LineKind::Undo);
    EXPECT_EQ(p.insn.pc, 0x28f7au);
    p = parse_exec_line("Stopped execution of TB chain before 0x7fe9bc866d80 [ffffffffc0208272] ");
    EXPECT_EQ(p.kind, LineKind::Undo);
    EXPECT_EQ(p.insn.pc, 0xffffffffc0208272u);
    EXPECT_EQ(parse_exec_line("").kind, LineKind::Other);
    EXPECT_EQ(parse_exec_line("Trace 0: garbage").kind, LineKind::Other);
    EXPECT_EQ(parse_exec_line("Trace 0: 0x1 [0/zz/0/0]").kind, LineKind::Other);
    EXPECT_EQ(parse_exec_line("IN: some disassembly").kind, LineKind::Other);
}

TEST(ExecLogReader, RealQemuLinesCountOnlyRetiredInstructions) {
    LogRun r(kQemuLog);
    // 14 Trace lines, 3 of them taken back: each MMIO instruction and the
    // interrupted block count once.
    const std::vector<uint64_t> want = {0xffffffffc0208268, 0xffffffffc020826c, 0xffffffffc020826e,
                                        0xffffffffc0208270, 0xffffffffc0208272, 0xffffffffc0208274,
                                        0x28f76, 0x28f78, 0x28f7a, 0x28f7c};
    EXPECT_EQ(r.pcs(), want);
    EXPECT_EQ(r.reader.undone(), 3u);
    EXPECT_EQ(r.reader.unmatched_undo(), 0u);
    EXPECT_EQ(r.c.got[5].mode, Mode::Supervisor);
    EXPECT_EQ(r.c.got[6].mode, Mode::User);
}

TEST(ExecLogReader, UndoOfAnotherPcOrAtTheStartTakesNothingBack) {
    LogRun r("cpu_io_recompile: rewound execution of TB to 0000000000001000\n"
          "Trace 0: 0x1 [0/0000000000001000/0/0] \n"
          "cpu_io_recompile: rewound execution of TB to 0000000000002000\n"
          "some other message\n");
    EXPECT_EQ(r.pcs(), std::vector<uint64_t>{0x1000});
    EXPECT_EQ(r.reader.unmatched_undo(), 2u);
    EXPECT_EQ(r.reader.other_lines(), 1u);
}

TEST(ExecLogReader, TwoUndosTakeBackOnlyTheHeldLine) {
    // Only the line right before an undo can be taken back.
    LogRun r("Trace 0: 0x1 [0/0000000000001000/0/0] \n"
          "Trace 0: 0x1 [0/0000000000001004/0/0] \n"
          "cpu_io_recompile: rewound execution of TB to 0000000000001004\n"
          "Stopped execution of TB chain before 0x1 [0000000000001000] \n");
    EXPECT_EQ(r.pcs(), std::vector<uint64_t>{0x1000});
    EXPECT_EQ(r.reader.undone(), 1u);
    EXPECT_EQ(r.reader.unmatched_undo(), 1u);
}

}  // namespace
}  // namespace ringlet::profile
