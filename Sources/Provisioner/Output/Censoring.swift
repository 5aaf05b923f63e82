/// `no_log`: nothing a task was given or said — arguments, loop item, result, diff, commands,
/// error text — reaches any output. The engine marks such reports `hidden`; `CensoringReporter`
/// stands between it and every reporter, so no output mode can show what it never receives.
public enum NoLog {
    /// Ansible's words for a censored result and item.
    public static let result = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"
    public static let item = "(censored due to no_log)"

    /// Whether a `no_log` value hides the task. One that cannot be decided (a template that
    /// fails, or that cannot be rendered yet) hides it: showing a secret cannot be undone.
    static func hides(_ value: Value?, _ isTrue: (Value) throws -> Bool) -> Bool {
        guard let value, !value.isNull else { return false }
        return (try? isTrue(value)) ?? true
    }

    /// Whether a `no_log` value hides the task before any variable is known (validate).
    static func hides(_ value: Value?) -> Bool {
        guard let value, !value.isNull else { return false }
        return ModuleArguments.boolean(value) ?? true
    }

    /// An error of a hidden task as it may be shown: where it is (an argument's line and column), not what it says.
    static func error(at location: SourceLocation) -> String {
        "\(location): this task cannot run; the error is hidden because the task has no_log (remove no_log to see it)"
    }
}

extension TaskReport {
    /// The report with everything of the task but its name, host, place and status taken out
    /// when it is hidden; itself otherwise.
    public var censored: TaskReport {
        guard hidden else { return self }
        var r = TaskReport(host: host, task: task, location: location, status: status)
        r.item = item == nil ? nil : NoLog.item
        r.message = NoLog.result
        r.ignored = ignored
        r.hidden = true
        r.seconds = seconds
        return r
    }
}

/// Passes a run's events on, hidden reports censored first. The engine reports through one.
/// Forward every `RunReporter` requirement here: one left to its default would be lost.
final class CensoringReporter: RunReporter {
    let inner: RunReporter

    init(wrapping inner: RunReporter) {
        self.inner = (inner as? CensoringReporter)?.inner ?? inner
    }

    func playStarted(_ play: Play, hosts: [String]) { inner.playStarted(play, hosts: hosts) }
    func taskStarted(_ name: String, handler: Bool, host: String) { inner.taskStarted(name, handler: handler, host: host) }
    func progress(_ text: String) { inner.progress(text) }
    func report(_ report: TaskReport) { inner.report(report.censored) }
    func retrying(host: String, task: String, retriesLeft: Int) { inner.retrying(host: host, task: task, retriesLeft: retriesLeft) }
    func warning(_ text: String) { inner.warning(text) }
    func finished(_ stats: [(host: String, stats: HostStats)], roundTrips: [String: Int], seconds: Double) {
        inner.finished(stats, roundTrips: roundTrips, seconds: seconds)
    }
}
