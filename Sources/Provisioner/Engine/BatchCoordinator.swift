import Foundation

/// The hosts of one batch run in parallel, each at its own pace. Where Ansible's linear strategy
/// makes them act as one (run_once, the play-wide meta actions, any_errors_fatal,
/// max_fail_percentage) they meet here: a meeting opens once every host still running has
/// reached it or finished, and the first of them in inventory order leads it.
final class BatchCoordinator: @unchecked Sendable {
    /// The batch, in inventory order.
    let hosts: [String]
    let maxFailPercentage: Double?
    private let condition = NSCondition()
    private var running: Set<String>
    /// Hosts waiting at a meeting, by the meeting's key.
    private var waiting: [String: String] = [:]
    /// Hosts let out of a meeting: whether each leads it.
    private var released: [String: Bool] = [:]
    /// What a meeting's leader found, for the others (a run_once task's outcome, a meta's decision).
    private var shared: [String: Any] = [:]
    private var throttles: [String: DispatchSemaphore] = [:]
    /// Hosts that failed since the last meeting, and whether a failure was fatal to all (any_errors_fatal).
    private var failedSinceMeeting: Set<String> = []
    private var fatal = false
    private var failedInBatch: Set<String> = []
    /// Hosts whose errors `meta: clear_host_errors` forgave.
    private var forgiven: Set<String> = []

    private var ended = (batch: false, play: false, playbook: false)
    /// Hosts stopped as failed by another host's failure: Ansible counts nothing for them.
    private var failedByOthers: Set<String> = []

    /// end_batch or end_play: the batch is over for every host, none of them failed.
    var batchEnded: Bool { locked { ended.batch } }
    /// No later batch of the play runs (end_play).
    var playEnded: Bool { locked { ended.play } }
    /// No later play runs either (max_fail_percentage exceeded).
    var playbookStopped: Bool { locked { ended.playbook } }

    private func locked<T>(_ body: () -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return body()
    }

    init(hosts: [String], maxFailPercentage: Double? = nil) {
        self.hosts = hosts
        self.maxFailPercentage = maxFailPercentage
        running = Set(hosts)
    }

    /// Waits until every running host has reached `key` (or finished); true for the host that leads.
    /// Hosts waiting at different meetings are let through one meeting at a time, the first host's first.
    func meet(_ host: String, at key: String) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        waiting[host] = key
        openMeetings()
        while released[host] == nil { condition.wait() }
        return released.removeValue(forKey: host) ?? false
    }

    /// A host is done with the play (or stopped): it holds no meeting back any more.
    func finished(_ host: String, failed: Bool) {
        condition.lock()
        defer { condition.unlock() }
        running.remove(host)
        waiting[host] = nil
        if failed { failedInBatch.insert(host) }
        openMeetings()
    }

    private func openMeetings() {
        guard !running.isEmpty, running.allSatisfy({ waiting[$0] != nil }),
              let first = hosts.first(where: { waiting[$0] != nil }), let key = waiting[first] else { return }
        let group = hosts.filter { waiting[$0] == key }
        judgeFailures()
        for host in group {
            waiting[host] = nil
            released[host] = host == group.first
        }
        condition.broadcast()
    }

    /// At a meeting: a fatal failure, or more failures than max_fail_percentage allows, fails every other host.
    private func judgeFailures() {
        defer {
            failedSinceMeeting = []
            fatal = false
        }
        if let limit = maxFailPercentage, !hosts.isEmpty, Double(failedInBatch.count) * 100 / Double(hosts.count) > limit {
            failedByOthers.formUnion(running.subtracting(failedSinceMeeting))
            ended.playbook = true
        } else if fatal {
            failedByOthers.formUnion(running.subtracting(failedSinceMeeting))
        }
    }

    /// A task failed on `host` (not ignored); with any_errors_fatal it fails every other host at the next meeting.
    func noteFailure(_ host: String, fatal isFatal: Bool) {
        condition.lock()
        defer { condition.unlock() }
        failedSinceMeeting.insert(host)
        failedInBatch.insert(host)
        if isFatal { fatal = true }
    }

    /// Whether another host's failure stopped `host` (any_errors_fatal, max_fail_percentage, a failed run_once).
    func isFailedByOthers(_ host: String) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return failedByOthers.contains(host)
    }

    /// A run_once task failed on the host that ran it: every other host of the batch fails with it.
    func failAll(except host: String) {
        condition.lock()
        defer { condition.unlock() }
        failedByOthers.formUnion(Set(hosts).subtracting([host]))
    }

    func endBatch(play: Bool) {
        condition.lock()
        defer { condition.unlock() }
        ended.batch = true
        if play { ended.play = true }
    }

    /// `meta: clear_host_errors`: the batch's failed hosts are no longer failed (for later plays and the exit status).
    func forgiveErrors() {
        condition.lock()
        defer { condition.unlock() }
        forgiven.formUnion(failedInBatch.union(failedByOthers))
        failedInBatch.removeAll()
        failedByOthers.removeAll()
    }

    /// Whether `meta: clear_host_errors` forgave `host`'s failure (and it did not fail again since).
    func isForgiven(_ host: String) -> Bool {
        locked { forgiven.contains(host) && !failedInBatch.contains(host) && !failedByOthers.contains(host) }
    }

    // MARK: Shared results

    func publish(_ value: Any, for key: String) {
        condition.lock()
        defer { condition.unlock() }
        shared[key] = value
        condition.broadcast()
    }

    /// What the leader of `key` published, once it has (nil at once when `wait` is false and it has not).
    func sharedValue(for key: String, wait: Bool) -> Any? {
        condition.lock()
        defer { condition.unlock() }
        while wait && shared[key] == nil { condition.wait() }
        return shared[key]
    }

    // MARK: throttle

    /// Runs `body` with at most `limit` hosts inside it for the same task at once.
    func throttled<T>(_ key: String, limit: Int, _ body: () throws -> T) rethrows -> T {
        condition.lock()
        let semaphore = throttles[key] ?? DispatchSemaphore(value: max(1, limit))
        throttles[key] = semaphore
        condition.unlock()
        semaphore.wait()
        defer { semaphore.signal() }
        return try body()
    }
}

extension Play {
    /// Whether every task is a meeting of the batch's hosts: a failure stops the others right after it.
    var needsLockstep: Bool {
        common.anyErrorsFatal == true || maxFailPercentage != nil || (tasks + handlers.map(TaskItem.task)).contains { $0.anyErrorsFatal }
    }
}

extension TaskItem {
    var anyErrorsFatal: Bool {
        switch self {
        case .task(let task): return task.common.anyErrorsFatal == true
        case .block(let block): return block.common.anyErrorsFatal == true || (block.tasks + block.rescue + block.always).contains { $0.anyErrorsFatal }
        case .include(let include): return include.common.anyErrorsFatal == true
        }
    }
}
