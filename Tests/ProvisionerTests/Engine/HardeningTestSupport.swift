import Foundation
import XCTest
@testable import Provisioner

/// The two ways the hardening tests reach a host: this machine over the local connection, and
/// the same machine over real ssh through a private sshd (`SSHTestServer`), so paths are alike.
enum HardeningTarget {
    /// Writes an inventory of one host, `target`, and returns its path.
    static func inventory(in scratch: Scratch, server: SSHTestServer?) throws -> String {
        let vars: ValueDict = server?.variables() ?? ["ansible_connection": "local"]
        let inventory: Value = ["all": ["hosts": ["target": .dict(vars)]]]
        return try scratch.write(server == nil ? "local.yml" : "ssh.yml", inventory.json)
    }

    /// Runs `body` with the local inventory, then (when sshd is installed) with the ssh one;
    /// `label` says which in failure messages.
    static func each(_ scratch: Scratch, _ body: (_ label: String, _ inventory: String) throws -> Void) throws {
        try body("local", try inventory(in: scratch, server: nil))
        let server = try SSHTestServer.start()
        defer { server.stop() }
        try body("ssh", try inventory(in: scratch, server: server))
    }
}
