import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

final class ModuleLingerTests: XCTestCase {
    typealias F = ModuleFixture

    let systemd = ModuleContext(facts: ValueDict([("service_mgr", "systemd")]))
    let probe = ["/bin/sh", "-c", LingerModule.managerScript, "sh", "ann"]
    let lingerFile = "/var/lib/systemd/linger/ann"

    func linger(_ arguments: KeyValuePairs<String, Value>) throws -> LingerModule { try F.make(LingerModule.self, arguments) }

    /// The probe's answer: uid and `systemctl is-active` (status 0 only for active), or no such user.
    func manager(_ state: String?) -> CommandOutput {
        guard let state else { return CommandOutput(status: 2, stdout: "") }
        return CommandOutput(status: state == "active" ? 0 : 3, stdout: "1000\n\(state)\n")
    }

    func plan(_ arguments: KeyValuePairs<String, Value>, lingering: Bool, manager state: String?,
              context: ModuleContext? = nil) throws -> Plan {
        try F.plan(try linger(arguments), files: lingering ? [lingerFile: F.file("")] : [:],
                   commands: [probe: manager(state)], context: context ?? systemd)
    }

    func testDeclaration() throws {
        XCTAssertEqual(LingerModule.name, "linger")
        XCTAssertEqual(try linger(["name": "ann"]).user, "ann")
        XCTAssertTrue(try linger(["user": "ann"]).enabled)
        XCTAssertThrowsError(try linger([:])) { XCTAssertTrue("\($0)".contains("needs the argument 'user'"), "\($0)") }
        XCTAssertThrowsError(try linger(["user": "1000"])) { error in
            XCTAssertEqual((error as? ModuleError)?.message, "give the user's name, not a uid ('1000')")
        }
        XCTAssertThrowsError(try linger(["user": "../etc"])) { error in
            XCTAssertEqual((error as? ModuleError)?.message, "'../etc' is not a valid user name")
        }
        XCTAssertThrowsError(try linger(["user": "ann", "state": "on"]))
    }

    func testObservesTheRecordAndTheManagerInOneProbe() throws {
        XCTAssertEqual(try linger(["user": "ann"]).observations(systemd), [.file(path: lingerFile, content: false), .command(probe)])
    }

    func testMissingLingerIsEnabled() throws {
        let result = try plan(["user": "ann"], lingering: false, manager: "inactive")
        XCTAssertEqual(result.summaries, ["enable lingering for ann"])
        XCTAssertEqual(result.actions, [.run(Command(["loginctl", "enable-linger", "ann"])), .run(Command(LingerModule.startManager("ann")))])
        XCTAssertEqual(result.changes.first?.diff, TextDiff(label: "linger ann", before: "linger: disabled\n", after: "linger: enabled\n"))
        XCTAssertEqual(result.result["uid"], 1000)
        XCTAssertEqual(result.result["linger"], true)
    }

    func testLingeringButStoppedManagerIsStarted() throws {
        let result = try plan(["user": "ann"], lingering: true, manager: "inactive")
        XCTAssertEqual(result.summaries, ["start user@1000.service (lingering is on but ann's manager is inactive)"])
        XCTAssertEqual(result.actions, [.run(Command(["systemctl", "start", "user@1000.service"]))])
        XCTAssertTrue(try plan(["user": "ann"], lingering: true, manager: "failed").isChanged)
    }

    func testConvergedIsNoChange() throws {
        XCTAssertFalse(try plan(["user": "ann"], lingering: true, manager: "active").isChanged)
        XCTAssertFalse(try plan(["user": "ann"], lingering: true, manager: "activating").isChanged)
    }

    func testDisabled() throws {
        let result = try plan(["user": "ann", "state": "disabled"], lingering: true, manager: "active")
        XCTAssertEqual(result.actions, [.run(Command(["loginctl", "disable-linger", "ann"]))])
        XCTAssertEqual(result.result["linger"], false)
        XCTAssertFalse(try plan(["user": "ann", "state": "disabled"], lingering: false, manager: "active").isChanged)
        // For a user deleted since, loginctl cannot look the name up; logind's record is removed instead.
        XCTAssertEqual(try plan(["user": "ann", "state": "disabled"], lingering: true, manager: nil).actions, [.remove(path: lingerFile)])
        XCTAssertFalse(try plan(["user": "ann", "state": "disabled"], lingering: false, manager: nil).isChanged)
    }

    func testUnknownUser() throws {
        XCTAssertEqual(try plan(["user": "ann"], lingering: false, manager: nil).failure,
                       "no user named ann; create it first (user module) or fix the name")
        // In check mode the task that creates the user did not run: plan the enable.
        let check = ModuleContext(facts: systemd.facts, checkMode: true)
        let result = try plan(["user": "ann"], lingering: false, manager: nil, context: check)
        XCTAssertEqual(result.actions, [.run(Command(["loginctl", "enable-linger", "ann"])), .run(Command(LingerModule.startManager("ann")))])
        XCTAssertNil(result.result["uid"])
    }

    func testWithoutSystemdFails() throws {
        let openrc = ModuleContext(facts: ValueDict([("service_mgr", "openrc")]))
        let module = try linger(["user": "ann"])
        XCTAssertEqual(module.observations(openrc), [])
        XCTAssertEqual(try F.plan(module, context: openrc).failure,
                       "systemd is not running here (PID 1 is openrc); lingering for ann needs systemd-logind")
    }

    /// The probe script against stand-in `id` and `systemctl` that behave like the real ones.
    func testProbeScript() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("provision-linger-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let tools = [
            "id": "#!/bin/sh\n[ \"$1 $2\" = \"-u ann\" ] && { echo 1000; exit 0; }\necho \"id: '$2': no such user\" >&2; exit 1\n",
            // The account database for a user /etc/passwd does not have (ann).
            "getent": "#!/bin/sh\n[ \"$1 $2\" = \"passwd ann\" ] && { echo ann:x:1000:1000::/home/ann:/bin/sh; exit 0; }\nexit 2\n",
            "systemctl": "#!/bin/sh\n[ \"$2\" = user@1000.service ] && { echo inactive; exit 3; }\necho unknown; exit 4\n",
        ]
        for (name, text) in tools {
            let path = folder.appendingPathComponent(name)
            try Data(text.utf8).write(to: path)
            chmod(path.path, 0o755)
        }
        let environment = ["PATH": folder.path + ":/usr/bin:/bin"]
        let known = try TestSupport.run("/bin/sh", Array(probe.dropFirst()), environment: environment)
        XCTAssertEqual(known.status, 3)
        XCTAssertEqual(known.stdout, "1000\ninactive\n")
        let unknown = try TestSupport.run("/bin/sh", ["-c", LingerModule.managerScript, "sh", "bob"], environment: environment)
        XCTAssertEqual(unknown.status, 2)
        XCTAssertEqual(unknown.stdout, "")
        XCTAssertEqual(unknown.stderr, "")
    }
}
