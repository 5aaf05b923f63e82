/// What the user asked for on the command line.
public struct RunOptions: Sendable {
    public var checkMode = false
    public var diff = false
    public var tags: Set<String> = []
    public var skipTags: Set<String> = []
    public var limit: String?
    public var extraVars = ValueDict()
    public var forks = 50
    public var verbosity = 0
    /// Seconds to wait for another apply's host lock (`--lock-timeout`).
    public var lockTimeout = 60
    /// `apply --bundle`: modules that would reach the network fail instead (OfflineBundle.refusal).
    public var offline = false
    /// `apply --bundle` of a bundle with packages: the repository the package module installs from.
    public var offlinePackages: OfflinePackages?
    /// `install.sh --dry-run`: each planned action is listed, marked when it needs root (for local hosts).
    public var rootNeeds: RootNeed?
    /// The bundle of `apply --bundle`, for what a task takes from it at run time (OfflineBundle.substituted).
    public var bundle: OfflineBundle?

    public init() {}
}

/// Ansible's recap counters for one host.
public struct HostStats: Sendable, Equatable {
    public var ok = 0
    public var changed = 0
    public var unreachable = 0
    public var failed = 0
    public var skipped = 0
    public var rescued = 0
    public var ignored = 0

    public init() {}
}

/// One line of output: a task's outcome on one host (one loop item, or the whole task).
public struct TaskReport: Sendable {
    public enum Status: String, Sendable { case ok, changed, skipped, failed, unreachable }

    public var host: String
    public var task: String
    public var location: SourceLocation?
    public var status: Status
    public var item: String?
    public var message: String?
    /// What `debug` prints, shown whatever the verbosity.
    public var output: String?
    public var changes: [String] = []
    public var diffs: [TextDiff] = []
    /// Commands the transport ran (shown under -v).
    public var commands: [String] = []
    /// `install.sh --dry-run`: the planned actions, each with " [needs root: why]" when it does.
    public var planned: [String] = []
    public var ignored = false
    public var hidden = false
    public var seconds: Double = 0
    /// The host a delegated task ran on (`delegate_to`), shown as `[host -> delegate]`.
    public var delegatedTo: String?
    /// The task's `diff:` keyword: shows (or hides) its diff whatever `--diff` says.
    public var showDiff: Bool?
}

/// Receives the run as it happens; the text and JSON outputs implement it.
public protocol RunReporter: AnyObject {
    func playStarted(_ play: Play, hosts: [String])
    func taskStarted(_ name: String, handler: Bool, host: String)
    /// What is running right now, for a live progress line (optional).
    func progress(_ text: String)
    func report(_ report: TaskReport)
    /// An attempt of an `until` task failed and it runs again: Ansible's "FAILED - RETRYING".
    func retrying(host: String, task: String, retriesLeft: Int)
    func warning(_ text: String)
    func finished(_ stats: [(host: String, stats: HostStats)], roundTrips: [String: Int], seconds: Double)
}

extension RunReporter {
    public func progress(_ text: String) {}
    public func retrying(host: String, task: String, retriesLeft: Int) {}
}
