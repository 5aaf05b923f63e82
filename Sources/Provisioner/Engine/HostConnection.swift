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

    public init() {}

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
        return local
    }

    public func close() {}
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
