/// A module's answer: the changes that converge one aspect of a host, each with
/// a one-line summary, before/after text for `--diff`, and the actions that make it.
public struct Change: Sendable {
    public var summary: String
    /// What `--diff` shows: a unified diff of `before` -> `after` under this label (usually a path).
    public var diff: TextDiff?
    public var actions: [Action]

    public init(_ summary: String, diff: TextDiff? = nil, actions: [Action]) {
        self.summary = summary
        self.diff = diff
        self.actions = actions
    }
}

public struct TextDiff: Hashable, Sendable {
    public var label: String
    public var before: String
    public var after: String

    public init(label: String, before: String, after: String) {
        self.label = label
        self.before = before
        self.after = after
    }
}

public struct Plan: Sendable {
    public var changes: [Change]
    /// Module-specific result fields for `register` (Ansible's return values: `path`, `state`, ...).
    public var result: ValueDict
    /// Set when the module has nothing to do by design ("skipped: no NVIDIA GPU", `creates` exists).
    public var skipReason: String?
    /// Set when the module found the host in a state it must not touch; the task fails with this.
    public var failure: String?
    /// Run-time work whose outcome decides the result (run before `changes`).
    public var steps: [HostStep]
    /// systemd work the engine does for this plan after its changes, batched with other tasks' (ServiceRestarts).
    public var units: [UnitRequest]

    public init(changes: [Change] = [], result: ValueDict = ValueDict(), skipReason: String? = nil, failure: String? = nil,
                steps: [HostStep] = [], units: [UnitRequest] = []) {
        self.changes = changes
        self.units = units
        self.result = result
        self.skipReason = skipReason
        self.failure = failure
        self.steps = steps
    }

    public static func skipped(_ reason: String, result: ValueDict = ValueDict()) -> Plan {
        Plan(result: result, skipReason: reason)
    }

    public static func failed(_ message: String) -> Plan { Plan(failure: message) }

    public var isChanged: Bool { !changes.isEmpty }
}

/// Run-time work of a module that its observations cannot settle ahead: an index refresh, a
/// download that may bring the same bytes, an HTTP request, a wait. The engine runs a plan's
/// steps in order, before its changes, and never in check mode unless `runsInCheckMode`; each
/// step's `interpret` turns what its command printed into result fields, says whether the host
/// changed, may fail the task, and may add steps that depend on what it read (`next`). The
/// module stays pure: it says what to run and how to read it.
public struct HostStep: Sendable {
    public var summary: String
    public var command: Command
    /// A read-only probe check mode may run too (get_url's HEAD request).
    public var runsInCheckMode: Bool
    /// Set for a step that repeats until `interpret` is satisfied (wait_for).
    public var poll: Poll?
    public var interpret: @Sendable (StepRun) -> StepOutcome

    public init(_ summary: String, command: Command, runsInCheckMode: Bool = false, poll: Poll? = nil,
                interpret: @escaping @Sendable (StepRun) -> StepOutcome) {
        self.summary = summary
        self.command = command
        self.runsInCheckMode = runsInCheckMode
        self.poll = poll
        self.interpret = interpret
    }

    /// Runs the command again every `interval` seconds, after `delay`, until satisfied or `timeout`
    /// (counted from before the delay) has passed.
    public struct Poll: Sendable, Equatable {
        public var delay: Double
        public var interval: Double
        public var timeout: Double

        public init(delay: Double = 0, interval: Double = 1, timeout: Double) {
            self.delay = delay
            self.interval = interval
            self.timeout = timeout
        }
    }
}

/// One run of a step's command, as its `interpret` sees it.
public struct StepRun: Sendable {
    public var output: CommandOutput
    /// Whole seconds since the step started (its delay included), as Ansible reports `elapsed`.
    public var elapsed: Int
    /// A polling step's last try: the timeout has passed.
    public var isLast: Bool

    public init(output: CommandOutput, elapsed: Int = 0, isLast: Bool = true) {
        self.output = output
        self.elapsed = elapsed
        self.isLast = isLast
    }
}

public struct StepOutcome: Sendable {
    /// False: a polling step tries again (until its timeout; then `failure` is the task's error).
    public var satisfied: Bool
    public var changed: Bool
    /// The host's state moved without that being a change of the task (apt's index was refreshed):
    /// later observations are read again, as after a change.
    public var touched: Bool
    /// Merged into the task's result.
    public var result: ValueDict
    public var failure: String?
    /// Steps to run next, built from what this one read (a checksum file, then the download).
    public var next: [HostStep]
    /// Where a polling step has got to ("pulling 8eeb52dfb3bb: 45%"), shown on the live progress line.
    public var progress: String?

    public init(satisfied: Bool = true, changed: Bool = false, touched: Bool = false, result: ValueDict = ValueDict(),
                failure: String? = nil, next: [HostStep] = [], progress: String? = nil) {
        self.satisfied = satisfied
        self.changed = changed
        self.touched = touched
        self.result = result
        self.failure = failure
        self.next = next
        self.progress = progress
    }

    public static func failed(_ message: String, result: ValueDict = ValueDict()) -> StepOutcome {
        StepOutcome(result: result, failure: message)
    }
}
