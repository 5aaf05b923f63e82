import Foundation
import XCTest
@testable import Provisioner

/// become over ssh: `sudo -n` to root from a user with NOPASSWD sudo, `sudo -n -u`
/// to a rootless user, one session per user, and the error when sudo wants a
/// password. Needs root (to create the users and their sudoers rules).
final class SSHBecomeTests: XCTestCase {
    private static let sudoer = "provision-sudo"
    private static let needsPassword = "provision-nopw"
    private static let sudoers = "/etc/sudoers.d/provision-ssh-tests"
    private var server: SSHTestServer!

    override func setUpWithError() throws {
        guard geteuid() == 0 else { throw XCTSkip("the become tests create users and sudoers rules, which needs root") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/sudo") else {
            if ProcessInfo.processInfo.environment["PROVISION_REQUIRE_INTEGRATION"] == "1" {
                throw SSHTestError("sudo is missing, and PROVISION_REQUIRE_INTEGRATION=1 requires the become tests")
            }
            throw XCTSkip("sudo is not installed (apt-get install sudo)")
        }
        server = try SSHTestServer.start()
        for user in [Self.sudoer, Self.needsPassword] {
            if getpwnam(user) == nil {
                let made = try TestSupport.run("/usr/sbin/useradd", ["-m", "-s", "/bin/sh", user])
                XCTAssertEqual(made.status, 0, made.stderr)
            }
            // '*' rather than useradd's '!': sshd without PAM refuses locked accounts.
            _ = try TestSupport.run("/usr/sbin/usermod", ["-p", "*", user])
        }
        try "\(Self.sudoer) ALL=(ALL) NOPASSWD: ALL\n\(Self.needsPassword) ALL=(ALL) ALL\n"
            .write(toFile: Self.sudoers, atomically: true, encoding: .utf8)
        chmod(Self.sudoers, 0o440)
    }

    override func tearDown() {
        server = nil
        try? FileManager.default.removeItem(atPath: Self.sudoers)
    }

    override class func tearDown() {
        guard geteuid() == 0 else { return }
        for user in [sudoer, needsPassword] where getpwnam(user) != nil {
            _ = try? TestSupport.run("/usr/sbin/userdel", ["-r", user])
        }
    }

    func testBecomesRootThroughSudo() throws {
        let transport = try SSHTransport(host: "testhost", variables: server.variables(user: Self.sudoer), become: Become())
        XCTAssertTrue(transport.name.hasSuffix("(become root via sudo)"), transport.name)
        let who = ["sh", "-c", "id -un; echo $HOME"]
        XCTAssertEqual(try transport.observe([.command(who)]).command(who)?.stdout, "root\n/root\n")
        let path = server.directory.appendingPathComponent("made-by-root").path
        _ = try transport.perform(.writeFile(path: path, content: [1], attributes: FileAttributes(mode: 0o600), backup: false))
        let made = try transport.observe([.file(path: path, content: true)]).file(path)
        XCTAssertEqual(made?.owner, "root")
        XCTAssertEqual(made?.mode, 0o600)
        XCTAssertEqual(made?.content, [1])
        XCTAssertEqual(transport.roundTrips, 3)
    }

    func testBecomesARootlessUserWithItsSessionEnvironment() throws {
        let transport = try SSHTransport(host: "testhost", variables: server.variables(),
                                         become: Become(user: Self.sudoer))
        let uid = try XCTUnwrap(getpwnam(Self.sudoer)?.pointee.pw_uid)
        let probe = ["sh", "-c", "id -un; echo $HOME; pwd; echo $XDG_RUNTIME_DIR; echo $DBUS_SESSION_BUS_ADDRESS"]
        XCTAssertEqual(try transport.observe([.command(probe)]).command(probe)?.stdout,
                       "\(Self.sudoer)\n/home/\(Self.sudoer)\n/home/\(Self.sudoer)\n/run/user/\(uid)\nunix:path=/run/user/\(uid)/bus\n")
    }

    func testEachUserHasItsOwnSessionOpenedOnDemand() throws {
        let connection = try SSHConnection(host: "testhost", variables: server.variables(user: Self.sudoer))
        let clients = { SSHTestServer.children(of: getpid()).filter { pid in
            ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").contains("Port=\(self.server.port)")
        } }
        let login = try connection.transport(becoming: nil)
        XCTAssertEqual(clients().count, 1)
        let root = try connection.transport(becoming: Become())
        XCTAssertEqual(clients().count, 2)
        XCTAssertTrue(try connection.transport(becoming: Become()) !== root, "a transport per call")
        XCTAssertEqual(clients().count, 2, "but one session per user")
        let id = ["id", "-un"]
        XCTAssertEqual(try login.observe([.command(id)]).command(id)?.stdout, "\(Self.sudoer)\n")
        XCTAssertEqual(try root.observe([.command(id)]).command(id)?.stdout, "root\n")
        XCTAssertEqual(login.roundTrips, 1)
        XCTAssertEqual(root.roundTrips, 1)
        connection.close()
        XCTAssertThrowsError(try root.observe([.command(id)]))
    }

    func testSudoWantingAPasswordIsExplained() throws {
        let transport = try SSHTransport(host: "testhost", variables: server.variables(user: Self.needsPassword),
                                         become: Become())
        XCTAssertThrowsError(try transport.observe([.command(["true"])])) { error in
            let error = error as? TransportError
            XCTAssertEqual(error?.unreachable, true)
            XCTAssertTrue(error?.message.hasPrefix("sudo needs a password on 127.0.0.1; allow NOPASSWD for \(Self.needsPassword)") == true,
                          error?.message ?? "")
        }
    }

    func testBecomeVariablesOverrideThePlay() throws {
        // ansible_become: false wins over the play's become; the login user runs commands.
        let variables = server.variables(user: Self.sudoer, [("ansible_become", false)])
        let transport = try SSHTransport(host: "testhost", variables: variables, become: Become())
        XCTAssertNil(transport.become)
        XCTAssertEqual(try transport.observe([.command(["id", "-un"])]).command(["id", "-un"])?.stdout, "\(Self.sudoer)\n")
    }
}

extension SSHBecomeTests {
    func testUnreadableFileFailsTheObservationButNotTheSession() throws {
        let transport = try SSHTransport(host: "testhost", variables: server.variables(user: Self.sudoer))
        XCTAssertThrowsError(try transport.observe([.file(path: "/etc/shadow", content: true), .command(["true"])])) { error in
            XCTAssertEqual((error as? TransportError)?.unreachable, false)
            XCTAssertTrue("\(error)".hasPrefix("read /etc/shadow: ") && "\(error)".contains("Permission denied"), "\(error)")
        }
        XCTAssertEqual(try transport.observe([.file(path: "/etc/shadow", content: false)]).file("/etc/shadow")?.owner, "root")
    }
}
