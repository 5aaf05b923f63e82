import Foundation

/// A host over ssh, as one user: observations go out as one script and come back
/// in one round trip; each action is one round trip. Semantics match
/// `LocalTransport` (atomic writes beside the target, backups, mkdir -p, rm -rf,
/// links never followed by setAttributes, argv without a shell), except that the
/// owner is set before the mode, so a setuid/setgid mode survives an owner change.
/// A write commits only once the host has checked its length and SHA-256; observations
/// also say where paths really are (`PathLocation`) and, with the host lock held, first
/// remove stale temp files of interrupted runs beside them.
public final class SSHTransport: Transport {
    public let name: String
    public private(set) var roundTrips = 0
    /// How long one `observe` may take before the session is given up.
    public var observationTimeout: TimeInterval? = 30
    /// How long one action may take; nil waits as long as the connection lives
    /// (package installs take minutes), since a dead peer is still noticed.
    public var actionTimeout: TimeInterval?
    public let connection: SSHConnection
    /// Who commands run as; nil for the login user.
    public let become: Become?
    private let session: SSHSession

    init(connection: SSHConnection, session: SSHSession, become: Become?) {
        self.connection = connection
        self.session = session
        self.become = become
        name = "ssh \(connection.target)" + (become.map { " (become \($0))" } ?? "")
    }

    /// The transport for inventory host `host`: its variables (Ansible's names)
    /// over `config`; `become` is the play's or task's, which `ansible_become*`
    /// variables override as in Ansible. Starts the ssh session.
    public convenience init(host: String, variables: ValueDict, config: AnsibleConfig = AnsibleConfig(),
                            become: Become? = nil) throws {
        let connection = try SSHConnection(host: host, variables: variables, config: config)
        let resolved = try Become.resolve(keyword: become, variables: variables, config: config, host: host)
        self.init(connection: connection, session: try connection.session(for: resolved), become: resolved)
    }

    /// Ends every session to this host (the transports for other users too).
    public func close() {
        connection.close()
    }

    public func observe(_ requests: [Observation]) throws -> Observations {
        // A path asked for with and without content is read once, with it.
        var paths: [String] = [], withContent = Set<String>(), commands: [[String]] = [], targets: [String] = []
        var seenPaths = Set<String>(), seenCommands = Set<[String]>(), seenTargets = Set<String>()
        for request in requests {
            switch request {
            case .file(let path, let content):
                if seenPaths.insert(path).inserted { paths.append(path) }
                if content { withContent.insert(path) }
            case .command(let argv):
                if seenCommands.insert(argv).inserted { commands.append(argv) }
            case .target(let path):
                if seenTargets.insert(path).inserted { targets.append(path) }
            }
        }
        guard !paths.isEmpty || !commands.isEmpty || !targets.isEmpty else { return Observations() }
        // All paths in one stat, all contents in one read: a process on the host costs milliseconds.
        let contentPaths = paths.filter { withContent.contains($0) }
        let located = Locations.requests(paths: paths, targets: targets)
        // Stale temp files of an interrupted run, beside what this run looks at: removed first, in the same trip.
        let folders = session.lockSettings?.removesLeftovers == true ? session.claimUnswept(Locations.folders(of: located)) : []
        var script = RemoteShellScript()
        // Leftovers go before any probe looks; the probes then run while the files are read.
        if !folders.isEmpty { try script.sweep(folders) }
        try script.startProbes(commands)
        if !paths.isEmpty { try script.statAll(paths) }
        if !contentPaths.isEmpty { try script.catAll(contentPaths) }
        if !targets.isEmpty { try script.statAll(targets, follow: true) }
        if !located.isEmpty { try script.locate(located.map { ($0.normalized, $0.follow) }) }
        try script.collectProbes(commands.count)
        roundTrips += 1
        var replies = try session.exchange(script, timeout: observationTimeout)[...]
        var result = Observations()
        var failure: String?
        if !folders.isEmpty {
            guard case .blob(let bytes)? = replies.popFirst() else { throw mismatch(nil, for: "sweep \(folders.count) folders") }
            let removed = Locations.split(bytes)
            if !removed.isEmpty, let lock = session.lockSettings { lock.tell(connection.target.name, .removedLeftovers(removed)) }
        }
        for path in paths {
            switch replies.popFirst() {
            case .file(let state)?: result.files[path] = state
            case .missing?: result.missing.insert(path)
            case .failure(let message)?: failure = failure ?? message
            case let reply: throw mismatch(reply, for: "stat \(path)")
            }
        }
        if !contentPaths.isEmpty {
            switch replies.popFirst() {
            case .blob(let bytes)?:
                if !split(bytes, among: contentPaths, into: &result) { try readOneByOne(contentPaths, into: &result) }
            case .failure?:
                // One unreadable file: read each alone, so the error names it.
                try readOneByOne(contentPaths, into: &result)
            case let reply: throw mismatch(reply, for: "read \(contentPaths.count) files")
            }
        }
        for path in targets {
            switch replies.popFirst() {
            case .file(let state)?: result.targets[path] = state
            case .missing?: result.unresolved.insert(path)
            case let reply: throw mismatch(reply, for: "stat -L \(path)")
            }
        }
        if !located.isEmpty {
            guard case .blob(let bytes)? = replies.popFirst() else { throw mismatch(nil, for: "locate \(located.count) paths") }
            result.locations = Locations.parse(bytes, for: located)
        }
        if !commands.isEmpty {
            switch replies.popFirst() {
            case .commands(let outputs)? where outputs.count == commands.count:
                for (argv, output) in zip(commands, outputs) { result.commands[argv] = output }
            case .failure(let message)?: failure = failure ?? message
            case let reply: throw mismatch(reply, for: "\(commands.count) probes")
            }
        }
        if let failure { throw TransportError(failure) }
        return result
    }

    /// Gives each regular file its bytes from `blob`, in order, by the sizes stat saw; false when
    /// they do not add up (a file changed between the two reads).
    private func split(_ blob: [UInt8], among paths: [String], into result: inout Observations) -> Bool {
        var offset = 0
        var states: [(String, FileState)] = []
        for path in paths {
            guard var state = result.files[path], state.kind == .file else { continue }
            guard offset + state.size <= blob.count else { return false }
            state.content = Array(blob[offset..<offset + state.size])
            offset += state.size
            states.append((path, state))
        }
        guard offset == blob.count else { return false }
        for (path, state) in states { result.files[path] = state }
        return true
    }

    /// Reads files one by one (one more round trip): stat and bytes of each from one process pair.
    private func readOneByOne(_ paths: [String], into result: inout Observations) throws {
        var script = RemoteShellScript()
        for path in paths { try script.stat(path, content: true) }
        roundTrips += 1
        let replies = try session.exchange(script, timeout: observationTimeout)
        for (path, reply) in zip(paths, replies) {
            switch reply {
            case .file(let state):
                result.files[path] = state
                result.missing.remove(path)
            case .missing:
                result.files[path] = nil
                result.missing.insert(path)
            case .failure(let message): throw TransportError(message)
            default: throw mismatch(reply, for: "read \(path)")
            }
        }
    }

    public func perform(_ action: Action) throws -> ActionResult {
        var script = RemoteShellScript()
        try script.perform(action)
        roundTrips += 1
        let reply = try session.exchange(script, timeout: actionTimeout).first
        switch (action, reply) {
        case (.run, .command(let output)?): return ActionResult(output: output)
        case (.run, _): break
        case (_, .done?): return ActionResult()
        default: break
        }
        if case .failure(let message)? = reply { throw TransportError(message) }
        throw mismatch(reply, for: action.summary)
    }

    private func mismatch(_ reply: RemoteShellReply?, for request: String) -> TransportError {
        TransportError("\(name): unexpected reply \(reply.map { "\($0)" } ?? "(none)") to \(request)", unreachable: true)
    }
}
