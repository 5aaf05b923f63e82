import Foundation

/// Everything provision holds open to one host: a session per user it acts as
/// (the login user, root through sudo, a rootless service user through sudo -u),
/// each opened on first use and kept until `close()` or deinit.
public final class SSHConnection {
    public let target: SSHTarget
    /// Taken by every session in its first round trip (nil: no lock).
    public let hostLock: HostLock?
    private var sessions: [String: SSHSession] = [:]
    private let lock = NSLock()

    public init(target: SSHTarget, hostLock: HostLock? = nil) {
        self.target = target
        self.hostLock = hostLock
    }

    /// The connection to inventory host `host` from its variables and ansible.cfg.
    public convenience init(host: String, variables: ValueDict, config: AnsibleConfig = AnsibleConfig(),
                            hostLock: HostLock? = nil) throws {
        self.init(target: try SSHTarget(host: host, variables: variables, config: config), hostLock: hostLock)
    }

    deinit {
        close()
    }

    /// The transport that acts as `become` (nil: as the login user). Its session
    /// starts now (ssh runs while the caller goes on) unless it is already open.
    public func transport(becoming become: Become?) throws -> SSHTransport {
        try become?.validate(host: target.name)
        return SSHTransport(connection: self, session: try session(for: become), become: become)
    }

    /// Ends every session: each remote shell exits and removes its scratch folder.
    public func close() {
        lock.lock()
        let open = Array(sessions.values)
        sessions.removeAll()
        lock.unlock()
        for session in open { session.close() }
    }

    /// Ends every session and the shared connection under them (Ansible's `meta: reset_connection`):
    /// the next session logs in anew, seeing, say, groups the user gained meanwhile.
    public func reset() {
        close()
        let shared = (target.sshArgs + target.commonArgs + target.extraArgs).contains { $0.contains("ControlPath") || $0.contains("ControlMaster") }
        guard shared else { return }
        if let stop = try? SSHProcess(arguments: target.controlArguments("exit")) { stop.finish(grace: 5) }
    }

    func session(for become: Become?) throws -> SSHSession {
        let key = become.map { "\($0.method):\($0.user)" } ?? ""
        lock.lock()
        defer { lock.unlock() }
        if let session = sessions[key] { return session }
        let session = try SSHSession(target: target, become: become, hostLock: hostLock)
        sessions[key] = session
        return session
    }
}
