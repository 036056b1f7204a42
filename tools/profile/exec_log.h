// Reading QEMU's `-d exec,nochain` log (QEMU 7.2, TCG) as a stream of retired
// guest instructions.
//
// With -singlestep every translation block holds one instruction, so every
//   Trace 0: 0x7fe9bc866a80 [0000000000000000/ffffffffc0208270/0020b001/ff020201] sym
// line (host code pointer, then [cs_base/pc/flags/cflags]) is one instruction
// that QEMU entered. Two other lines say the one before did NOT retire:
//   cpu_io_recompile: rewound execution of TB to ffffffffc0208270
//     (an MMIO access in a block not built for I/O under -icount: QEMU throws
//      the block away and runs the instruction again, traced a second time)
//   Stopped execution of TB chain before 0x7fe9bc866d80 [ffffffffc0208272] sym
//     (the block was entered but left before its first instruction, e.g. for
//      an interrupt or the end of the icount budget)
// so the reader holds each Trace line back until the next line shows it
// stood. Checked against rdinstret (echo --stats 1): the corrected count
// equals the instret delta exactly; the raw Trace count is ~2 per request over.
#pragma once

#include <stdint.h>

#include <string_view>

namespace ringlet::profile {

// The privilege mode QEMU translated the instruction for (RISC-V TB flags:
// the low bits are the MMU index, 0 = U, 1 and 2 = S, 3 = M).
enum class Mode : uint8_t { User, Supervisor, Machine };

struct Retired {
    uint64_t pc = 0;
    Mode mode = Mode::User;
};

// What one log line is.
enum class LineKind { Trace, Undo, Other };

struct ParsedLine {
    LineKind kind = LineKind::Other;
    Retired insn;  // Trace: the instruction; Undo: pc of the one that did not retire
};

// Classifies and parses one line (without its newline).
ParsedLine parse_exec_line(std::string_view line);

// Feeds lines in order and calls sink(const Retired&) once per retired
// instruction. Counts what it dropped so a report can say so.
template <typename Sink>
class ExecLogReader {
public:
    explicit ExecLogReader(Sink& sink) : m_sink(sink) {}

    void line(std::string_view text) {
        const ParsedLine p = parse_exec_line(text);
        if (p.kind == LineKind::Trace) {
            flush();
            m_held = p.insn;
            m_has_held = true;
        } else if (p.kind == LineKind::Undo) {
            if (m_has_held && m_held.pc == p.insn.pc) {
                m_has_held = false;
                ++m_undone;
            } else {
                ++m_unmatched_undo;  // nothing to take back: a log cut mid-pair
            }
        } else if (!text.empty()) {
            ++m_other;
        }
    }

    // Passes on the last held instruction; call at the end of the log.
    void finish() { flush(); }

    uint64_t undone() const { return m_undone; }
    uint64_t unmatched_undo() const { return m_unmatched_undo; }
    uint64_t other_lines() const { return m_other; }

private:
    void flush() {
        if (m_has_held) m_sink(m_held);
        m_has_held = false;
    }

    Sink& m_sink;
    Retired m_held;
    bool m_has_held = false;
    uint64_t m_undone = 0;
    uint64_t m_unmatched_undo = 0;
    uint64_t m_other = 0;
};

}  // namespace ringlet::profile
