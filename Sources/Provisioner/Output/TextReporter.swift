import Foundation

/// Ansible-like text: `PLAY [..]`, `TASK [..]`, a status line per host and item,
/// unified diffs under `--diff`, and the `PLAY RECAP`. Colour only on a TTY without NO_COLOR.
public final class TextReporter: RunReporter {
    let color: Bool
    let verbosity: Int
    let showDiff: Bool
    var lastTask: String?
    /// `install.sh --dry-run`'s tally: planned actions, and those that need root.
    private var planned = 0, needRoot = 0
    private let lock = NSLock()
    /// A transient "host: task" line on a terminal's stderr, erased before real output.
    private let showProgress = isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    private var progressShown = false

    public init(verbosity: Int, showDiff: Bool, color: Bool = TextReporter.wantsColor()) {
        self.verbosity = verbosity
        self.showDiff = showDiff
        self.color = color
    }

    public static func wantsColor() -> Bool {
        isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
            && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }

    func banner(_ title: String) -> String {
        let width = 80
        return title + " " + String(repeating: "*", count: max(3, width - title.count - 1))
    }

    func emit(_ text: String) {
        clearProgress()
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Shows what is running now (hosts work in parallel, so the latest start wins).
    public func progress(_ text: String) {
        guard showProgress else { return }
        lock.withLock {
            FileHandle.standardError.write(Data("\r\u{1B}[K» \(text.prefix(100))".utf8))
            progressShown = true
        }
    }

    private func clearProgress() {
        guard progressShown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        progressShown = false
    }

    public func playStarted(_ play: Play, hosts: [String]) {
        lock.withLock {
            emit("\n" + banner("PLAY [\(play.name)]"))
            if hosts.isEmpty { emit(paint("skipping: no hosts matched", "35")) }
            lastTask = nil
        }
    }

    public func taskStarted(_ name: String, handler: Bool, host: String) {
        lock.withLock {
            let title = (handler ? "RUNNING HANDLER" : "TASK") + " [\(name)]"
            guard lastTask != title else { return }
            lastTask = title
            emit("\n" + banner(title))
        }
    }

    public func report(_ r: TaskReport) {
        lock.withLock {
            if r.showDiff ?? showDiff {
                for d in r.diffs {
                    let text = UnifiedDiff.render(before: d.before, after: d.after, label: d.label)
                    if !text.isEmpty { emit(colorDiff(text)) }
                }
            }
            // Ansible's words: "skipping:", "fatal: [h]: FAILED!", "fatal: [h]: UNREACHABLE!".
            var line: String
            switch r.status {
            case .skipped: line = "skipping: [\(r.host)]"
            case .failed: line = "fatal: [\(r.host)]: FAILED!"
            case .unreachable: line = "fatal: [\(r.host)]: UNREACHABLE!"
            default: line = "\(r.status.rawValue): [\(r.host)]"
            }
            if let delegate = r.delegatedTo { line = line.replacingOccurrences(of: "[\(r.host)]", with: "[\(r.host) -> \(delegate)]") }
            if let item = r.item { line += " => (item=\(item))" }
            if r.status == .failed || r.status == .unreachable {
                line += " => " + (r.message ?? "failed")
            } else if let output = r.output {
                line += " => " + output
            } else if let message = r.message, r.status == .skipped || verbosity > 0 {
                line += " => \(message)"
            }
            let code: String
            switch r.status {
            case .ok: code = "32"
            case .changed: code = "33"
            case .skipped: code = "36"
            case .failed, .unreachable: code = "31"
            }
            emit(paint(line, code))
            if r.ignored { emit(paint("...ignoring", "36")) }
            for action in r.planned {
                emit("    plan: \(action)")
                planned += 1
                if action.contains("  [needs root: ") { needRoot += 1 }
            }
            if verbosity > 0 {
                for change in r.changes { emit("    ~ \(change)") }
                for command in r.commands { emit(paint("    $ \(command)", "90")) }
            }
        }
    }

    public func retrying(host: String, task: String, retriesLeft: Int) {
        lock.withLock { emit(paint("FAILED - RETRYING: [\(host)]: \(task) (\(retriesLeft) retries left).", "31")) }
    }

    func colorDiff(_ text: String) -> String {
        guard color else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            if line.hasPrefix("+") && !line.hasPrefix("+++") { return paint(String(line), "32") }
            if line.hasPrefix("-") && !line.hasPrefix("---") { return paint(String(line), "31") }
            if line.hasPrefix("@@") { return paint(String(line), "36") }
            return String(line)
        }.joined(separator: "\n")
    }

    public func warning(_ text: String) {
        lock.withLock { FileHandle.standardError.write(Data(paint("[WARNING]: \(text)", "35").appending("\n").utf8)) }
    }

    public func finished(_ stats: [(host: String, stats: HostStats)], roundTrips: [String: Int], seconds: Double) {
        lock.withLock {
            emit("\n" + banner("PLAY RECAP"))
            for (host, s) in stats {
                let name = paint(host.padding(toLength: max(26, host.count), withPad: " ", startingAt: 0),
                                 s.failed + s.unreachable > 0 ? "31" : s.changed > 0 ? "33" : "32")
                func field(_ label: String, _ value: Int) -> String {
                    "\(label)=\(value)".padding(toLength: label.count + 1 + max(4, String(value).count + 1), withPad: " ", startingAt: 0)
                }
                emit("\(name) : " + [field("ok", s.ok), field("changed", s.changed), field("unreachable", s.unreachable),
                                    field("failed", s.failed), field("skipped", s.skipped), field("rescued", s.rescued),
                                    field("ignored", s.ignored)].joined(separator: " ").trimmingCharacters(in: .whitespaces))
            }
            let changed = stats.reduce(0) { $0 + $1.stats.changed }
            var summary = "\n\(changed) changed in " + (seconds < 1 ? "\(Int(seconds * 1000)) ms" : String(format: "%.2f s", seconds))
            if verbosity > 0 {
                summary += "; round trips: " + stats.map { "\($0.host)=\(roundTrips[$0.host] ?? 0)" }.joined(separator: " ")
            }
            emit(summary)
            if planned > 0 {
                emit(needRoot == 0 ? "installation plan: \(planned) action(s), none needs root"
                     : "installation plan: \(planned) action(s), \(needRoot) need root: run the installation with sudo")
            }
        }
    }
}
