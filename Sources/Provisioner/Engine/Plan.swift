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
    /// systemd work the engine does for this plan after its changes, batched with other tasks' (ServiceRestarts).
    public var units: [UnitRequest]

    public init(changes: [Change] = [], result: ValueDict = ValueDict(), skipReason: String? = nil, failure: String? = nil,
                units: [UnitRequest] = []) {
        self.changes = changes
        self.units = units
        self.result = result
        self.skipReason = skipReason
        self.failure = failure
    }

    public static func skipped(_ reason: String, result: ValueDict = ValueDict()) -> Plan {
        Plan(result: result, skipReason: reason)
    }

    public static func failed(_ message: String) -> Plan { Plan(failure: message) }

    public var isChanged: Bool { !changes.isEmpty }
}
