import Foundation

/// `--json`: one JSON document on stdout at the end, nothing else.
public final class JSONReporter: RunReporter {
    private var plays: [Value] = []
    private var currentPlay: (name: String, hosts: [String])?
    private var reports: [Value] = []
    private var warnings: [Value] = []
    private let lock = NSLock()

    public init() {}

    public func playStarted(_ play: Play, hosts: [String]) {
        lock.withLock {
            closePlay()
            currentPlay = (play.name, hosts)
        }
    }

    func closePlay() {
        guard let play = currentPlay else { return }
        plays.append(["name": .string(play.name), "hosts": .list(play.hosts.map(Value.string)), "tasks": .list(reports)])
        reports = []
        currentPlay = nil
    }

    public func taskStarted(_ name: String, handler: Bool, host: String) {}

    public func report(_ r: TaskReport) {
        var entry: ValueDict = ["host": .string(r.host), "task": .string(r.task), "status": .string(r.status.rawValue),
                                "seconds": .float((r.seconds * 1000).rounded() / 1000)]
        if let location = r.location { entry["location"] = .string(location.description) }
        if let item = r.item { entry["item"] = .string(item) }
        if let message = r.message { entry["message"] = .string(message) }
        if let output = r.output { entry["output"] = .string(output) }
        if !r.changes.isEmpty { entry["changes"] = .list(r.changes.map(Value.string)) }
        if !r.diffs.isEmpty {
            entry["diff"] = .list(r.diffs.map {
                ["path": .string($0.label), "before": .string($0.before), "after": .string($0.after),
                 "unified": .string(UnifiedDiff.render(before: $0.before, after: $0.after, label: $0.label))]
            })
        }
        if !r.commands.isEmpty { entry["commands"] = .list(r.commands.map(Value.string)) }
        if !r.planned.isEmpty { entry["plan"] = .list(r.planned.map(Value.string)) }
        if r.hidden { entry["no_log"] = true }
        if r.ignored { entry["ignored"] = true }
        if let delegate = r.delegatedTo { entry["delegated_to"] = .string(delegate) }
        lock.withLock { reports.append(.dict(entry)) }
    }

    public func warning(_ text: String) { lock.withLock { warnings.append(.string(text)) } }

    public func finished(_ stats: [(host: String, stats: HostStats)], roundTrips: [String: Int], seconds: Double) {
        lock.withLock {
            closePlay()
            var recap = ValueDict()
            for (host, s) in stats {
                recap[host] = ["ok": .int(s.ok), "changed": .int(s.changed), "unreachable": .int(s.unreachable),
                               "failed": .int(s.failed), "skipped": .int(s.skipped), "rescued": .int(s.rescued),
                               "ignored": .int(s.ignored), "round_trips": .int(roundTrips[host] ?? 0)]
            }
            let document: Value = ["plays": .list(plays), "recap": .dict(recap), "warnings": .list(warnings),
                                   "seconds": .float((seconds * 1000).rounded() / 1000)]
            FileHandle.standardOutput.write(Data((document.json + "\n").utf8))
        }
    }
}
