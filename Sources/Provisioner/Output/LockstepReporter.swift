import Foundation

/// Hosts run in parallel, each at its own pace; this prints their results the
/// way Ansible's linear strategy reads: one `TASK [..]` block per task with a
/// line per host, hosts in inventory order, as soon as every running host is past it.
final class LockstepReporter: RunReporter {
    private let inner: RunReporter
    private let lock = NSLock()
    private let hosts: [String]
    /// Per host: the events of each task it started, in order.
    private var events: [String: [[Event]]] = [:]
    private var finished: Set<String> = []
    private var printed = 0

    private enum Event {
        case started(String, handler: Bool)
        case report(TaskReport)
        case retry(task: String, retriesLeft: Int)
    }

    init(wrapping inner: RunReporter, hosts: [String]) {
        self.inner = inner
        self.hosts = hosts
        for host in hosts { events[host] = [] }
    }

    func playStarted(_ play: Play, hosts: [String]) { inner.playStarted(play, hosts: hosts) }

    func progress(_ text: String) { inner.progress(text) }

    func taskStarted(_ name: String, handler: Bool, host: String) {
        inner.progress("\(host): \(name)")
        lock.withLock {
            events[host, default: []].append([.started(name, handler: handler)])
            flush()
        }
    }

    func report(_ report: TaskReport) {
        lock.withLock {
            if events[report.host]?.isEmpty ?? true {
                events[report.host, default: []].append([])
            }
            let last = (events[report.host]?.count ?? 1) - 1
            events[report.host]?[last].append(.report(report))
        }
    }

    func retrying(host: String, task: String, retriesLeft: Int) {
        lock.withLock {
            if events[host]?.isEmpty ?? true { events[host, default: []].append([]) }
            let last = (events[host]?.count ?? 1) - 1
            events[host]?[last].append(.retry(task: task, retriesLeft: retriesLeft))
        }
    }

    /// A host is done (or stopped): it no longer holds the others back.
    func hostFinished(_ host: String) {
        lock.withLock {
            finished.insert(host)
            flush()
        }
    }

    func warning(_ text: String) { inner.warning(text) }

    func finished(_ stats: [(host: String, stats: HostStats)], roundTrips: [String: Int], seconds: Double) {
        flushAll()
        inner.finished(stats, roundTrips: roundTrips, seconds: seconds)
    }

    /// Prints whatever is left (every host done).
    func flushAll() {
        lock.withLock {
            finished.formUnion(hosts)
            flush()
        }
    }

    /// Prints every task index that all running hosts have completed.
    private func flush() {
        let complete = hosts.map { host -> Int in
            let count = events[host]?.count ?? 0
            return finished.contains(host) ? Int.max : max(0, count - 1)
        }.min() ?? 0
        let available = hosts.map { events[$0]?.count ?? 0 }.max() ?? 0
        while printed < min(complete, available) {
            for host in hosts {
                guard let tasks = events[host], printed < tasks.count else { continue }
                for event in tasks[printed] {
                    switch event {
                    case .started(let name, let handler): inner.taskStarted(name, handler: handler, host: host)
                    case .report(let r): inner.report(r)
                    case .retry(let task, let left): inner.retrying(host: host, task: task, retriesLeft: left)
                    }
                }
            }
            printed += 1
        }
    }
}
