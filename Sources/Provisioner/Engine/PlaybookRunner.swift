import Foundation

/// Runs a playbook against its hosts and returns Ansible's exit code:
/// 0 all ok, 2 a host failed, 4 a host unreachable.
public final class PlaybookRunner {
    let playbook: Playbook
    let inventory: Inventory
    let engine: EngineContext
    /// One connection per host for the whole run, whatever the number of plays.
    private var connections: [String: HostConnection] = [:]
    private let connectionsLock = NSLock()

    public init(playbook: Playbook, inventory: Inventory, registry: ModuleRegistry, loader: PlaybookLoader,
                options: RunOptions, reporter: RunReporter, config: AnsibleConfig = AnsibleConfig()) {
        self.playbook = playbook
        self.inventory = inventory
        self.engine = EngineContext(options: options, registry: registry, loader: loader, reporter: reporter, config: config)
    }

    /// The variables that say how to reach a host (`ansible_*`): the inventory's,
    /// overridden by the play's vars and then by `-e`, as in Ansible; templates rendered.
    func connectionVariables(_ host: String, _ inventoryVars: ValueDict, _ play: Play) throws -> ValueDict {
        let scope = inventoryVars.merging(play.vars).merging(engine.options.extraVars)
        var vars = inventoryVars
        for (key, value) in play.vars.merging(engine.options.extraVars) where key.hasPrefix("ansible_") {
            vars[key] = try Templar(variables: scope).render(value)
        }
        return vars
    }

    /// `ansible_connection: local` (or the implicit localhost) is this machine; anything else is ssh.
    /// One connection per host and connection settings, kept for the whole run.
    func connection(to host: String, _ vars: ValueDict) throws -> HostConnection {
        let settings = vars.filter { $0.key.hasPrefix("ansible_") }
        let key = host + "\u{0}" + Value.dict(ValueDict(settings.map { ($0.key, $0.value) })).json
        return try connectionsLock.withLock {
            if let open = connections[key] { return open }
            let kind = vars["ansible_connection"]?.string
            let connection: HostConnection
            switch kind {
            case "local"?:
                connection = LocalConnection(host: host, hostLock: hostLock)
            case nil where inventory.isImplicitLocalhost(host):
                connection = LocalConnection(host: host, hostLock: hostLock)
            case nil, "ssh"?, "smart"?, "paramiko"?:
                connection = RemoteConnection(try SSHConnection(host: host, variables: vars, config: engine.config, hostLock: hostLock))
            case let other?:
                throw TransportError("\(host): ansible_connection=\(other) is not supported (use local or ssh)", unreachable: true)
            }
            connections[key] = connection
            return connection
        }
    }

    /// One apply per host at a time (see `HostLock`): waits and leftovers are reported as warnings,
    /// the leftovers only under -v.
    var hostLock: HostLock {
        let reporter = engine.reporter, options = engine.options
        return HostLock(timeout: options.lockTimeout, removesLeftovers: !options.checkMode) { host, event in
            switch event {
            case .waiting(let holder):
                reporter.warning("\(host): waiting for \(holder) to finish (up to \(options.lockTimeout) s, --lock-timeout)")
            case .unavailable:
                reporter.warning("\(host): cannot take the host lock (no flock there): another apply at the same time is not kept out")
            case .removedLeftovers(let paths) where options.verbosity > 0:
                reporter.warning("\(host): removed \(paths.count) temporary file(s) an interrupted run left: "
                    + paths.map(HostLock.printable).joined(separator: ", "))
            case .removedLeftovers:
                break
            }
        }
    }

    func closeConnections() {
        let open = connectionsLock.withLock { Array(connections.values) }
        for connection in open { connection.close() }
    }

    /// Checks the whole playbook before touching any host; throws `PreflightError`/`ParseError`.
    public func validate() throws {
        try engine.validate(playbook)
    }

    public func run() throws -> Int32 {
        let start = Date()
        try validate()
        defer { closeConnections() }
        var stats: [String: HostStats] = [:]
        var roundTrips: [String: Int] = [:]
        var hostVars: [String: ValueDict] = [:]
        for play in playbook.plays {
            let selection: HostSelection
            do {
                selection = try inventory.hosts(matching: play.hosts, limit: engine.options.limit)
            } catch let error as HostPatternError {
                throw ParseError("hosts: \(error.message)", at: play.location)
            }
            for warning in selection.warnings { engine.reporter.warning(warning) }
            let hosts = selection.hosts
            try checkPorts(hosts)
            engine.reporter.playStarted(play, hosts: hosts)
            let batches = try Batching.batches(of: hosts, serial: play.serial, at: play.location)
            for batch in batches {
                for host in batch where stats[host] == nil { stats[host] = HostStats() }
                let runs = try startHosts(batch, play: play, hostVars: hostVars, stats: &stats)
                execute(runs, play: play)
                var failedInBatch = batch.count - runs.count
                for run in runs {
                    stats[run.host] = (stats[run.host] ?? HostStats()).adding(run.stats)
                    roundTrips[run.host, default: 0] += run.roundTrips
                    hostVars[run.host] = run.hostVars
                    if run.stopped { failedInBatch += 1 }
                }
                if Batching.exceeds(failed: failedInBatch, of: batch.count, maxFailPercentage: play.maxFailPercentage) {
                    engine.reporter.warning("stopping: \(failedInBatch) of \(batch.count) host(s) in this batch failed"
                        + (play.maxFailPercentage.map { " (max_fail_percentage: \($0))" } ?? ""))
                    return finish(stats, roundTrips, start)
                }
            }
        }
        return finish(stats, roundTrips, start)
    }

    /// `ansible_port` must be a TCP port; found before any host is contacted.
    func checkPorts(_ hosts: [String]) throws {
        for host in hosts {
            guard let port = inventory.variables(for: host)["ansible_port"] else { continue }
            let number: Int? = { if case .int(let n) = port { return n }; return port.string.flatMap { Int($0) } }()
            guard let n = number, (1...65535).contains(n) else {
                let location = inventory.host(named: host)?.location ?? SourceLocation(file: "inventory", line: 1, column: 1)
                throw ParseError("ansible_port of \(host): port \(port.pythonText) is out of range (1-65535)", at: location)
            }
        }
    }

    func finish(_ stats: [String: HostStats], _ roundTrips: [String: Int], _ start: Date) -> Int32 {
        let ordered = stats.keys.sorted().map { (host: $0, stats: stats[$0] ?? HostStats()) }
        engine.reporter.finished(ordered, roundTrips: roundTrips, seconds: Date().timeIntervalSince(start))
        if ordered.contains(where: { $0.stats.unreachable > 0 }) { return 4 }
        if ordered.contains(where: { $0.stats.failed > 0 }) { return 2 }
        return 0
    }

    /// Connects, gathers facts and prefetches every host of a batch (in parallel)
    /// before any of them changes anything; unreachable hosts are reported and left out.
    func startHosts(_ batch: [String], play: Play, hostVars: [String: ValueDict], stats: inout [String: HostStats]) throws -> [HostRun] {
        let runtimeNames = EngineContext.runtimeNames(play.tasks + play.handlers.map(TaskItem.task), registry: engine.registry)
        let slots = Slots<HostRun>(count: batch.count)
        Parallel.run(batch.count, limit: engine.options.forks) { index in
            let host = batch[index]
            do {
                let vars = try self.connectionVariables(host, self.inventory.variables(for: host), play)
                let run = HostRun(host: host, play: play, connection: try self.connection(to: host, vars), engine: self.engine,
                                  inventoryVars: vars, hostVars: hostVars[host] ?? ValueDict())
                try run.prepare()
                try run.prefetch(runtimeNames: runtimeNames)
                slots.set(index, .success(run))
            } catch {
                slots.set(index, .failure(error))
            }
        }
        var runs: [HostRun] = []
        for (index, result) in slots.results.enumerated() {
            switch result {
            case .success(let run)?: runs.append(run)
            case .failure(let error as TransportError)?:
                var report = TaskReport(host: batch[index], task: "connect", status: .unreachable)
                report.message = error.message
                engine.reporter.report(report)
                stats[batch[index]]?.unreachable += 1
            case .failure(let error)?: throw error
            case nil: break
            }
        }
        return runs
    }

    /// Runs the play on every started host, in parallel up to `--forks`.
    func execute(_ runs: [HostRun], play: Play) {
        guard runs.count > 1 else {
            for run in runs {
                run.run(play.tasks)
                run.runHandlers()
            }
            return
        }
        let lockstep = LockstepReporter(wrapping: engine.reporter, hosts: runs.map(\.host))
        Parallel.run(runs.count, limit: engine.options.forks) { index in
            let run = runs[index]
            run.reporter = lockstep
            run.run(play.tasks)
            run.runHandlers()
            lockstep.hostFinished(run.host)
        }
        lockstep.flushAll()
    }
}

/// Work on real threads: hosts mostly wait on I/O, so the core count is no limit.
enum Parallel {
    static func run(_ count: Int, limit: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let slots = DispatchSemaphore(value: max(1, limit))
        let group = DispatchGroup()
        for index in 0..<count {
            slots.wait()
            group.enter()
            let thread = Thread {
                body(index)
                slots.signal()
                group.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
    }
}

/// Results written by parallel workers, one slot each.
final class Slots<T>: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var results: [Result<T, Error>?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<T, Error>) {
        lock.withLock { results[index] = result }
    }
}

extension HostStats {
    func adding(_ other: HostStats) -> HostStats {
        var s = self
        s.ok += other.ok
        s.changed += other.changed
        s.unreachable += other.unreachable
        s.failed += other.failed
        s.skipped += other.skipped
        s.rescued += other.rescued
        s.ignored += other.ignored
        return s
    }
}
