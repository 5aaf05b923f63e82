/// How the engine reaches a host. Only transports touch hosts; the same
/// interface serves the local machine and ssh.
public protocol Transport: AnyObject {
    /// A short name for messages (`local`, `ssh root@host:22`).
    var name: String { get }
    /// Reads every observation in one round trip.
    func observe(_ requests: [Observation]) throws -> Observations
    /// Applies one primitive action. Throws `TransportError` when it fails.
    func perform(_ action: Action) throws -> ActionResult
    /// Round trips made so far (observations, actions, facts).
    var roundTrips: Int { get }
}

public struct TransportError: Error, CustomStringConvertible {
    public var message: String
    /// The host cannot be reached any more (exit code 4 rather than 2).
    public var unreachable: Bool

    public init(_ message: String, unreachable: Bool = false) {
        self.message = message
        self.unreachable = unreachable
    }

    public var description: String { message }
}
