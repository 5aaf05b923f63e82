import Foundation

/// Runs a playbook against its hosts and returns Ansible's exit code:
/// 0 all ok, 2 a host failed, 4 a host unreachable.
public final class PlaybookRunner: HostDirectory {
    let playbook: Playbook
    /// Reads the inventory again, for `meta: refresh_inventory` (nil: the inventory stays as it was given).
    public var inventoryReloader: (() throws -> Inventory)?
    private var inventoryStale = false
    let engine: EngineContext
    /// The inventory now: plays choose their hosts after earlier plays' add_host and group_by.
    var inventory: Inventory { engine.live?.current ?? Inventory() }
    /// One connection per host for the whole run, whatever the number of plays.
    private var connections: [String: HostConnection] = [:]
    private let connectionsLock = NSLock()

    public init(playbook: Playbook, inventory: Inventory, registry: ModuleRegistry, loader: PlaybookLoader,
                options: RunOptions, reporter: RunReporter, config: AnsibleConfig = AnsibleConfig()) {
        self.playbook = playbook
        self.engine = EngineContext(options: options, registry: registry, loader: loader, reporter: reporter, config: config)
        engine.hosts = self
        engine.live = LiveInventory(inventory)
    }

    /// The variables that say how to reach a host (`ansible_*`): the inventory's,
    /// overridden by the play's vars and then by `-e`, as in Ansible; templates rendered.
    /// The play's (or a task's) `connection`, `remote_user` and `port` fill in what those leave unset.
    func connectionVariables(_ host: String, _ inventoryVars: ValueDict, _ play: Play,
                             keywords: ConnectionKeywords? = nil) throws -> ValueDict {
        let scope = inventoryVars.merging(play.vars).merging(engine.options.extraVars)
        var vars = inventoryVars
        for (key, value) in play.vars.merging(engine.options.extraVars) where key.hasPrefix("ansible_") {
            let rendered = try Templar(variables: scope).render(value)
            vars[key] = value.needsRendering ? .untrusted(rendered) : rendered
        }
        let keywords = keywords ?? ConnectionKeywords(connection: play.connection, remoteUser: play.remoteUser, port: play.port)
        return keywords.defaults(under: vars)
    }

    func connectionVariables(of host: String, in play: Play, keywords: ConnectionKeywords) throws -> ValueDict {
        try connectionVariables(host, inventory.variables(for: host), play, keywords: keywords)
    }

    /// A delegated task's own connection: one per delegating host, so that no two hosts' threads share it.
    func connection(to host: String, for owner: String, variables: ValueDict) throws -> HostConnection {
        try connection(to: host, variables, owner: owner)
    }

    func refreshInventory() throws {
        connectionsLock.withLock { inventoryStale = true }
    }

    /// `ansible_connection: local` (or the implicit localhost) is this machine; anything else is ssh.
    /// One connection per host and connection settings, kept for the whole run.
    func connection(to host: String, _ vars: ValueDict, owner: String? = nil) throws -> HostConnection {
        let settings = vars.filter { $0.key.hasPrefix("ansible_") }
        let key = (owner.map { $0 + "\u{0}" } ?? "") + host + "\u{0}" + Value.dict(ValueDict(settings.map { ($0.key, $0.value) })).json
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

    /// Checks the whole playbook before touching any host; throws `ParseError`/`PreflightError`, or
    /// `Diagnostics` with every problem when there are several (`earlier`: the loader's).
    public func validate(adding earlier: [Error] = []) throws {
        var problems = earlier
        problems += engine.validate(playbook)
        for play in playbook.plays {
            for prompt in play.prompts where engine.options.extraVars[prompt.name] == nil {
                problems.append(ParseError("vars_prompt '\(prompt.name)': provision never prompts; give the value with -e \(prompt.name)=VALUE", at: prompt.location))
            }
        }
        try Diagnostics.throwIfAny(problems)
    }

    /// What the run knows about every host so far.
    struct RunState {
        var stats: [String: HostStats] = [:]
        var roundTrips: [String: Int] = [:]
        var hostVars: [String: ValueDict] = [:]
        /// Hosts that failed or became unreachable: later plays leave them out, and the exit status says so.
        var failed: Set<String> = []
        var unreachable: Set<String> = []
    }

    public func run() throws -> Int32 {
        let start = Date()
        try validate()
        defer { closeConnections() }
        var state = RunState()
        plays: for play in playbook.plays {
            try reloadInventoryIfAsked()
            let selection: HostSelection
            do {
                selection = try inventory.hosts(matching: play.hosts, limit: engine.options.limit)
            } catch let error as HostPatternError {
                throw ParseError("hosts: \(error.message)", at: play.location)
            }
            for warning in selection.warnings { engine.reporter.warning(warning) }
            let hosts = ordered(selection.hosts.filter { !state.failed.contains($0) && !state.unreachable.contains($0) }, play.order)
            try checkPorts(hosts)
            engine.reporter.playStarted(play, hosts: hosts)
            let batches = try Batching.batches(of: hosts, serial: play.serial, at: play.location)
            for batch in batches {
                try reloadInventoryIfAsked()
                let coordinator = BatchCoordinator(hosts: batch, maxFailPercentage: play.maxFailPercentage)
                let runs = try startHosts(batch, play: play, coordinator: coordinator, state: &state)
                execute(runs, play: play)
                var failedInBatch = batch.count - runs.count
                for run in runs {
                    state.stats[run.host] = (state.stats[run.host] ?? HostStats()).adding(run.stats)
                    state.roundTrips[run.host, default: 0] += run.roundTrips
                    state.hostVars[run.host] = run.hostVars
                    if coordinator.isForgiven(run.host) {
                        state.failed.remove(run.host)
                        state.unreachable.remove(run.host)
                        continue
                    }
                    if run.unreachable { state.unreachable.insert(run.host) }
                    if run.failed || run.failedByOthers { state.failed.insert(run.host) }
                    if run.unreachable || run.failed || run.failedByOthers { failedInBatch += 1 }
                }
                if coordinator.playbookStopped || Batching.exceeds(failed: failedInBatch, of: batch.count, maxFailPercentage: play.maxFailPercentage) {
                    engine.reporter.warning("stopping: \(failedInBatch) of \(batch.count) host(s) in this batch failed"
                        + (play.maxFailPercentage.map { " (max_fail_percentage: \($0))" } ?? ""))
                    break plays
                }
                if coordinator.playEnded { break }
            }
        }
        return finish(state, start)
    }

    /// Hosts in the play's `order`.
    func ordered(_ hosts: [String], _ order: String) -> [String] {
        switch order {
        case "reverse_inventory": return hosts.reversed()
        case "sorted": return hosts.sorted { $0.precedesInCodePoints($1) }
        case "reverse_sorted": return hosts.sorted { $1.precedesInCodePoints($0) }
        case "shuffle": return hosts.shuffled()
        default: return hosts
        }
    }

    func reloadInventoryIfAsked() throws {
        guard connectionsLock.withLock({ inventoryStale }), let reload = inventoryReloader else { return }
        engine.live?.replace(with: try reload())
        connectionsLock.withLock { inventoryStale = false }
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

    /// The recap (hosts with nothing counted are left out, as Ansible leaves them) and Ansible's exit status.
    func finish(_ state: RunState, _ start: Date) -> Int32 {
        let ordered = state.stats.keys.sorted().map { (host: $0, stats: state.stats[$0] ?? HostStats()) }.filter { $0.stats != HostStats() }
        engine.reporter.finished(ordered, roundTrips: state.roundTrips, seconds: Date().timeIntervalSince(start))
        if !state.unreachable.isEmpty { return 4 }
        if !state.failed.isEmpty { return 2 }
        return 0
    }

    /// Connects, gathers facts and prefetches every host of a batch (in parallel)
    /// before any of them changes anything; unreachable hosts are reported and left out.
    func startHosts(_ batch: [String], play: Play, coordinator: BatchCoordinator, state: inout RunState) throws -> [HostRun] {
        let runtimeNames = EngineContext.runtimeNames(play.tasks + play.handlers.map(TaskItem.task), registry: engine.registry)
        let slots = Slots<HostRun>(count: batch.count)
        let hostVars = state.hostVars
        let lockstep = play.needsLockstep
        Parallel.run(batch.count, limit: engine.options.forks) { index in
            let host = batch[index]
            do {
                let vars = try self.connectionVariables(host, self.inventory.variables(for: host), play)
                let run = HostRun(host: host, play: play, connection: try self.connection(to: host, vars), engine: self.engine,
                                  inventoryVars: vars, hostVars: hostVars[host] ?? ValueDict(), coordinator: coordinator)
                run.lockstep = lockstep
                try run.start(runtimeNames: runtimeNames)
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
                state.stats[batch[index], default: HostStats()].unreachable += 1
                state.unreachable.insert(batch[index])
                coordinator.finished(batch[index], failed: true)
            case .failure(let error)?: throw error
            case nil: break
            }
        }
        return runs
    }

    /// Runs the play on every started host, in parallel up to `--forks`.
    func execute(_ runs: [HostRun], play: Play) {
        @Sendable func perform(_ run: HostRun) {
            run.reportFacts()
            run.run(play.tasks)
            run.runHandlers(force: play.forceHandlers)
            run.coordinator.finished(run.host, failed: run.failed || run.unreachable)
        }
        guard runs.count > 1 else {
            runs.forEach(perform)
            return
        }
        let lockstep = LockstepReporter(wrapping: engine.reporter, hosts: runs.map(\.host))
        Parallel.run(runs.count, limit: engine.options.forks) { index in
            let run = runs[index]
            run.reporter = lockstep
            perform(run)
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
