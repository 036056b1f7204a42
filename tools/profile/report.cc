// Text and Markdown output (report.h).
#include "report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace ringlet::profile {

Table::Table(std::vector<std::string> headers, std::vector<bool> right_aligned)
    : m_headers(std::move(headers)), m_right(std::move(right_aligned)) {}

void Table::row(std::vector<std::string> cells) { m_rows.push_back(std::move(cells)); }

void Table::print(std::ostream& out, bool markdown) const {
    const size_t n = m_headers.size();
    if (markdown) {
        auto line = [&](const std::vector<std::string>& cells) {
            out << '|';
            for (size_t i = 0; i < n; ++i) {
                std::string c = i < cells.size() ? cells[i] : "";
                // A '|' inside a cell (operator|) would split the column.
                for (size_t p = 0; (p = c.find('|', p)) != std::string::npos; p += 2) c.replace(p, 1, "\\|");
                out << ' ' << c << " |";
            }
            out << '\n';
        };
        line(m_headers);
        out << '|';
        for (size_t i = 0; i < n; ++i) out << (m_right[i] ? " ---: |" : " --- |");
        out << '\n';
        for (const auto& r : m_rows) line(r);
        return;
    }
    std::vector<size_t> width(n, 0);
    auto measure = [&](const std::vector<std::string>& cells) {
        for (size_t i = 0; i < n && i < cells.size(); ++i) width[i] = std::max(width[i], cells[i].size());
    };
    measure(m_headers);
    for (const auto& r : m_rows) measure(r);
    auto line = [&](const std::vector<std::string>& cells) {
        std::string s;
        for (size_t i = 0; i < n; ++i) {
            const std::string& c = i < cells.size() ? cells[i] : std::string();
            const std::string pad(width[i] - c.size(), ' ');
            if (i > 0) s += "  ";
            // The last column is left-aligned text: no trailing blanks.
            s += m_right[i] ? pad + c : (i + 1 == n ? c : c + pad);
        }
        while (!s.empty() && s.back() == ' ') s.pop_back();
        out << s << '\n';
    };
    line(m_headers);
    for (const auto& r : m_rows) line(r);
}

std::string group(uint64_t v) {
    std::string digits = std::to_string(v), out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string group(double v, int decimals) {
    const double scale = std::pow(10.0, decimals);
    const auto scaled = static_cast<uint64_t>(std::llround(std::max(v, 0.0) * scale));
    std::string s = group(scaled / static_cast<uint64_t>(scale));
    if (decimals > 0) {
        std::string frac = std::to_string(scaled % static_cast<uint64_t>(scale));
        frac.insert(0, static_cast<size_t>(decimals) - frac.size(), '0');
        s += '.' + frac;
    }
    return s;
}

namespace {

std::string percent(uint64_t part, uint64_t whole) {
    return whole == 0 ? "0.0" : group(100.0 * static_cast<double>(part) / static_cast<double>(whole), 1);
}

}  // namespace

void print_report(std::ostream& out, const Profile& p, const LogCounters& log, const ReportOptions& opt) {
    const uint64_t total = p.total();
    const double n = static_cast<double>(std::max<uint64_t>(opt.requests, 1));
    auto per_req = [&](uint64_t v) { return group(static_cast<double>(v) / n, 1); };
    const char* head = opt.markdown ? "#### " : "";

    if (!opt.title.empty()) out << head << opt.title << "\n\n";
    out << "instructions retired in the window: " << group(total) << " over " << group(opt.requests)
        << " requests = " << per_req(total) << " per request\n";
    out << "  user (U-mode) " << per_req(p.total_in(Mode::User)) << ", kernel (S-mode) "
        << per_req(p.total_in(Mode::Supervisor)) << ", firmware (M-mode) " << per_req(p.total_in(Mode::Machine))
        << " per request\n";
    out << "  trace lines taken back (not retired): " << group(log.undone);
    if (log.unmatched_undo) out << " (+" << group(log.unmatched_undo) << " unmatched)";
    out << "\n\n";

    out << head << "Per layer\n\n";
    Table layers({"layer", "instr/req", "%", "instructions", "what"}, {false, true, true, true, false});
    for (size_t l = 0; l < kLayerCount; ++l) {
        const auto layer = static_cast<Layer>(l);
        const uint64_t v = p.layer_total(layer);
        layers.row({std::string(layer_name(layer)), per_req(v), percent(v, total), group(v),
                    std::string(layer_description(layer))});
    }
    layers.row({"total", per_req(total), percent(total, total), group(total), ""});
    layers.print(out, opt.markdown);
    out << '\n';

    std::vector<uint32_t> ran;
    const auto& fs = p.functions();
    for (uint32_t i = 0; i < fs.size(); ++i)
        if (fs[i].instructions) ran.push_back(i);
    std::sort(ran.begin(), ran.end(), [&](uint32_t a, uint32_t b) {
        if (fs[a].instructions != fs[b].instructions) return fs[a].instructions > fs[b].instructions;
        return p.symbols().at(a).name < p.symbols().at(b).name;
    });
    const size_t shown = opt.top == 0 ? ran.size() : std::min(opt.top, ran.size());
    out << head << "Flat profile (" << (shown == ran.size() ? "all " : "top " + std::to_string(shown) + " of ")
        << ran.size() << " functions; self instructions, calls = entries at the first instruction)\n\n";
    Table flat({"instr/req", "%", "cum %", "calls/req", "instructions", "layer", "function"},
               {true, true, true, true, true, false, false});
    uint64_t cum = 0;
    for (size_t k = 0; k < shown; ++k) {
        const FunctionStats& f = fs[ran[k]];
        const Symbol& s = p.symbols().at(ran[k]);
        cum += f.instructions;
        flat.row({per_req(f.instructions), percent(f.instructions, total), percent(cum, total),
                  s.has_start ? group(static_cast<double>(f.calls) / n, 2) : "-", group(f.instructions),
                  std::string(layer_name(p.layer_of(ran[k]))), opt.full_names ? s.name : short_name(s.name)});
    }
    if (shown < ran.size()) {
        const uint64_t rest = total - cum;
        flat.row({per_req(rest), percent(rest, total), percent(total, total), "", group(rest), "",
                  "(" + std::to_string(ran.size() - shown) + " other functions)"});
    }
    flat.row({per_req(total), percent(total, total), "", "", group(total), "", "total"});
    flat.print(out, opt.markdown);
}

}  // namespace ringlet::profile
