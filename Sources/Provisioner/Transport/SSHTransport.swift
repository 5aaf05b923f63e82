import Foundation

/// A host over ssh, as one user: observations go out as one script and come back
/// in one round trip; each action is one round trip. Semantics match
/// `LocalTransport` (atomic writes beside the target, backups, mkdir -p, rm -rf,
/// links never followed by setAttributes, argv without a shell), except that the
/// owner is set before the mode, so a setuid/setgid mode survives an owner change.
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
        var withContent = Set<String>()
        for case .file(let path, true) in requests { withContent.insert(path) }
        var script = RemoteShellScript()
        var asked: [Observation] = []
        var seen = Set<Observation>()
        for request in requests {
            var request = request
            if case .file(let path, false) = request, withContent.contains(path) { request = .file(path: path, content: true) }
            guard seen.insert(request).inserted else { continue }
            asked.append(request)
            switch request {
            case .file(let path, let content): try script.stat(path, content: content)
            case .command(let argv): try script.run(Command(argv))
            }
        }
        guard !asked.isEmpty else { return Observations() }
        roundTrips += 1
        let replies = try session.exchange(script, timeout: observationTimeout)
        var result = Observations()
        var failure: String?
        for (request, reply) in zip(asked, replies) {
            switch (request, reply) {
            case (.file(let path, _), .file(let state)): result.files[path] = state
            case (.file(let path, _), .missing): result.missing.insert(path)
            case (.command(let argv), .command(let output)): result.commands[argv] = output
            case (_, .failure(let message)): failure = failure ?? message
            default: throw mismatch(reply, for: "\(request)")
            }
        }
        if let failure { throw TransportError(failure) }
        return result
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
