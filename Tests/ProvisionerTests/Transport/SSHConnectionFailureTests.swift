import Foundation
import XCTest
@testable import Provisioner

/// Host keys checked, clear unreachable errors, and no hangs when the connection dies.
final class SSHConnectionFailureTests: XCTestCase {
    private var server: SSHTestServer!

    override func setUpWithError() throws {
        server = try SSHTestServer.start()
    }

    override func tearDown() {
        server = nil
    }

    /// The error of the first round trip to a host with these variables.
    private func firstError(_ variables: ValueDict, config: AnsibleConfig = AnsibleConfig(),
                            file: StaticString = #filePath, line: UInt = #line) -> TransportError? {
        do {
            let transport = try SSHTransport(host: "testhost", variables: variables, config: config)
            _ = try transport.observe([.command(["true"])])
            XCTFail("connected", file: file, line: line)
            return nil
        } catch let error as TransportError {
            XCTAssertTrue(error.unreachable, "\(error)", file: file, line: line)
            return error
        } catch {
            XCTFail("\(error)", file: file, line: line)
            return nil
        }
    }

    func testUnknownHostKeyIsRefusedWithTheFix() throws {
        let empty = server.directory.appendingPathComponent("empty_known_hosts").path
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        let error = try XCTUnwrap(firstError(server.variables(knownHosts: empty)))
        XCTAssertTrue(error.message.contains("host key of 127.0.0.1 (port \(server.port)) is unknown"), error.message)
        XCTAssertTrue(error.message.contains("ssh-keyscan -p \(server.port) 127.0.0.1 >> \(empty)"), error.message)
        XCTAssertEqual(try String(contentsOfFile: empty, encoding: .utf8), "", "nothing was added to known_hosts")
    }

    func testChangedHostKeyIsRefusedWithTheFix() throws {
        server.stop()
        try server.rotateHostKey(record: false)
        try server.launch()
        let error = try XCTUnwrap(firstError(server.variables()))
        XCTAssertTrue(error.message.contains("has CHANGED"), error.message)
        XCTAssertTrue(error.message.contains("ssh-keygen") && error.message.contains("-R '[127.0.0.1]:\(server.port)'"), error.message)
    }

    func testHostKeyCheckingOffOnlyWhenTheUserSaysSo() throws {
        let empty = server.directory.appendingPathComponent("empty_known_hosts").path
        _ = FileManager.default.createFile(atPath: empty, contents: Data())
        var config = try AnsibleConfig(text: "[defaults]\nhost_key_checking = False\n", path: nil)
        XCTAssertFalse(config.hostKeyChecking)
        let transport = try SSHTransport(host: "testhost", variables: server.variables(knownHosts: empty), config: config)
        XCTAssertEqual(try transport.observe([.command(["echo", "in"])]).command(["echo", "in"])?.stdout, "in\n")
        config = try AnsibleConfig(text: "", path: nil, environment: ["ANSIBLE_HOST_KEY_CHECKING": "False"])
        XCTAssertFalse(config.hostKeyChecking)
        XCTAssertTrue(try SSHTarget(host: "h", variables: ValueDict(), config: config).arguments(remoteCommand: "x")
            .contains("StrictHostKeyChecking=no"))
        XCTAssertFalse(try SSHTarget(host: "h", variables: ValueDict(), config: AnsibleConfig()).arguments(remoteCommand: "x")
            .contains { $0.contains("StrictHostKeyChecking") })
    }

    func testAuthenticationFailureIsExplained() throws {
        let other = server.directory.appendingPathComponent("other_key").path
        let made = try TestSupport.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", other])
        XCTAssertEqual(made.status, 0)
        let error = try XCTUnwrap(firstError(server.variables([("ansible_ssh_private_key_file", .string(other))])))
        XCTAssertTrue(error.message.contains("authentication failed for \(server.user)@127.0.0.1:\(server.port)"), error.message)
        XCTAssertTrue(error.message.contains("Permission denied (publickey)"), error.message)
    }

    func testRefusedConnectionIsExplained() throws {
        server.stop()
        let error = try XCTUnwrap(firstError(server.variables()))
        XCTAssertTrue(error.message.contains("cannot connect to 127.0.0.1 port \(server.port): ")
            && error.message.contains("Connection refused"), error.message)
    }

    func testSilentServerTimesOut() throws {
        // A socket that listens but never speaks: ssh gives up after ConnectTimeout (ansible_ssh_timeout).
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 4) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        XCTAssertTrue(listening)
        var variables = server.variables([("ansible_ssh_timeout", 1)])
        variables["ansible_port"] = .int(Int(UInt16(bigEndian: address.sin_port)))
        let started = Date()
        let error = try XCTUnwrap(firstError(variables))
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        XCTAssertTrue(error.message.contains("cannot connect to 127.0.0.1") && error.message.contains("timed out"), error.message)
    }

    func testKilledSessionMidRunIsUnreachablePromptly() throws {
        let transport = try SSHTransport(host: "testhost", variables: server.variables())
        _ = try transport.observe([.command(["true"])])
        let started = Date()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { [server] in server?.killSessions() }
        XCTAssertThrowsError(try transport.perform(.run(Command(["sleep", "30"])))) { error in
            XCTAssertEqual((error as? TransportError)?.unreachable, true, "\(error)")
            XCTAssertTrue("\(error)".contains("connection to \(self.server.user)@127.0.0.1:\(self.server.port) was lost"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        // Every later call fails the same way, at once.
        let again = Date()
        XCTAssertThrowsError(try transport.observe([.command(["true"])])) { error in
            XCTAssertEqual((error as? TransportError)?.unreachable, true)
        }
        XCTAssertThrowsError(try transport.perform(.touch(path: "/tmp")))
        XCTAssertLessThan(Date().timeIntervalSince(again), 1)
    }

    func testKilledSSHProcessIsUnreachablePromptly() throws {
        let transport = try SSHTransport(host: "testhost", variables: server.variables())
        _ = try transport.observe([.command(["true"])])
        let port = "Port=\(server.port)"
        let clients = SSHTestServer.children(of: getpid()).filter { pid in
            ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").contains(port)
                && ((try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? "").hasPrefix("ssh\n")
        }
        XCTAssertEqual(clients.count, 1)
        let started = Date()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { for pid in clients { kill(pid, SIGKILL) } }
        XCTAssertThrowsError(try transport.perform(.run(Command(["sleep", "3"])))) { error in
            XCTAssertEqual((error as? TransportError)?.unreachable, true, "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
        // Once the command is done, the orphaned remote shell finds nobody listening and cleans up.
        let scratch = server.directory.appendingPathComponent("tmp").path
        let leftovers = { (try? FileManager.default.contentsOfDirectory(atPath: scratch))?.filter { $0.hasPrefix(".provision.") } ?? [] }
        let deadline = Date().addingTimeInterval(10)
        while !leftovers().isEmpty && Date() < deadline { usleep(100_000) }
        XCTAssertEqual(leftovers(), [])
    }

    func testObservationTimeoutClosesTheSession() throws {
        let transport = try SSHTransport(host: "testhost", variables: server.variables())
        transport.observationTimeout = 1
        let started = Date()
        XCTAssertThrowsError(try transport.observe([.command(["sleep", "20"])])) { error in
            XCTAssertEqual((error as? TransportError)?.unreachable, true)
            XCTAssertTrue("\(error)".contains("no answer within 1 s"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 4)
        XCTAssertThrowsError(try transport.observe([.command(["true"])]))
    }

    func testPortOutOfRangeAndBadSettingsAreRefused() {
        XCTAssertThrowsError(try SSHTarget(host: "h", variables: ValueDict([("ansible_port", 66044)]))) { error in
            XCTAssertEqual("\(error)", "h: port 66044 is out of range (1-65535)")
        }
        XCTAssertThrowsError(try SSHTarget(host: "h", variables: ValueDict([("ansible_port", "0")])))
        XCTAssertThrowsError(try SSHTarget(host: "h", variables: ValueDict([("ansible_port", "ssh")])))
        XCTAssertThrowsError(try SSHTarget(host: "h", variables: ValueDict([("ansible_host", "-oProxyCommand=evil")])))
        XCTAssertThrowsError(try SSHTarget(host: "h", variables: ValueDict([("ansible_ssh_common_args", "-o 'unclosed")])))
        XCTAssertThrowsError(try SSHTransport(host: "h", variables: ValueDict([("ansible_become_method", "su")]), become: Become())) { error in
            XCTAssertTrue("\(error)".contains("become method 'su' is not supported"), "\(error)")
        }
    }

    func testSessionsCloseAndCleanUp() throws {
        func scratchFolders() -> Set<String> {
            let tmp = server.directory.appendingPathComponent("tmp").path
            let names = (try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []
            return Set(names.filter { $0.hasPrefix(".provision.") }.map { "\(tmp)/\($0)" })
        }
        let before = scratchFolders()
        let connection = try SSHConnection(host: "testhost", variables: server.variables())
        let transport = try connection.transport(becoming: nil)
        _ = try transport.observe([.command(["true"])])
        let mine = scratchFolders().subtracting(before)
        XCTAssertEqual(mine.count, 1, "the session's folder is in the TMPDIR sshd gave it")
        connection.close()
        XCTAssertThrowsError(try transport.observe([.command(["true"])]))
        // The remote shell removed its scratch folder on the way out.
        let deadline = Date().addingTimeInterval(3)
        while !mine.isDisjoint(with: scratchFolders()) && Date() < deadline { usleep(20_000) }
        XCTAssertTrue(mine.isDisjoint(with: scratchFolders()), "\(mine)")
    }
}
