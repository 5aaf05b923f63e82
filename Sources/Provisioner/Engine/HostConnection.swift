import Foundation

/// What the engine holds open to one host for the whole run: a transport per
/// user it acts as (the login user, root, a rootless service user).
public protocol HostConnection: AnyObject {
    var name: String { get }
    func transport(becoming become: Become?) throws -> Transport
    func close()
    /// Closes everything down to the network connection, so the next task connects afresh.
    func reset()
}

extension HostConnection {
    public func reset() { close() }
}

/// This machine. Becoming another user needs provision to run as that user or as root.
public final class LocalConnection: HostConnection {
    public let name = "local"
    private let local = LocalTransport()
    /// The inventory name, for the host lock's messages.
    private let host: String
    private let hostLock: HostLock?
    private var locked = false
    private let mutex = NSLock()

    /// `hostLock`: this machine's lock is taken on first use and kept until `close()`.
    public init(host: String = "localhost", hostLock: HostLock? = nil) {
        self.host = host
        self.hostLock = hostLock
    }

    public func transport(becoming become: Become?) throws -> Transport {
        if let become, geteuid() != 0 {
            let me = getpwuid(geteuid()).flatMap { String(validatingCString: $0.pointee.pw_name) } ?? ""
            if become.user != me {
                throw TransportError("become (\(become.user)) on the local connection needs provision to run as root (sudo provision ...)")
            }
        }
        if let become, become.user != "root", geteuid() == 0 {
            throw TransportError("become_user \(become.user) on the local connection is not supported yet; target the host over ssh (ansible_connection=ssh)")
        }
        try lockHost()
        return local
    }

    private func lockHost() throws {
        guard let hostLock else { return }
        try mutex.withLock {
            guard !locked else { return }
            try LocalHostLock.shared.acquire(hostLock, host: host)
            locked = true
            if hostLock.removesLeftovers, let file = LocalHostLock.shared.path {
                let host = self.host
                local.leftovers = (file, { hostLock.tell(host, .removedLeftovers($0)) })
            }
        }
    }

    /// Nothing to reconnect here; the host lock stays held.
    public func reset() {}

    public func close() {
        mutex.withLock {
            guard locked else { return }
            local.leftovers = nil
            LocalHostLock.shared.release()
            locked = false
        }
    }
}

/// A host over ssh: one persistent session per become user (see SSHConnection).
public final class RemoteConnection: HostConnection {
    let ssh: SSHConnection

    public init(_ ssh: SSHConnection) { self.ssh = ssh }

    public var name: String { ssh.target.description }

    public func transport(becoming become: Become?) throws -> Transport {
        try ssh.transport(becoming: become)
    }

    public func close() { ssh.close() }

    public func reset() { ssh.reset() }
}
