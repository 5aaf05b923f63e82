import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

final class ModuleServiceTests: XCTestCase {
    typealias F = ModuleFixture

    func service(_ arguments: KeyValuePairs<String, Value>) throws -> ServiceModule { try F.make(ServiceModule.self, arguments) }

    let systemd = ModuleContext(facts: ValueDict([("service_mgr", "systemd"), ("user_uid", 1000)]))
    let enabledProbe = ["systemctl", "is-enabled", "nginx"]
    let activeProbe = ["systemctl", "is-active", "nginx"]

    func plan(_ arguments: KeyValuePairs<String, Value>, enabled: String, active: String) throws -> Plan {
        let module = try service(arguments)
        var commands = [enabledProbe: CommandOutput(status: ["enabled", "static", "alias", "indirect"].contains(enabled) ? 0 : 1,
                                                    stdout: enabled + "\n")]
        if module.state != nil { commands[activeProbe] = CommandOutput(status: active == "active" ? 0 : 3, stdout: active + "\n") }
        return try F.plan(module, commands: commands, context: systemd)
    }

    func testNamesAndAliases() {
        XCTAssertEqual(ServiceModule.name, "service")
        XCTAssertEqual(ServiceModule.aliases, ["systemd", "systemd_service"])
    }

    func testConvergedUnitIsNoChange() throws {
        let result = try plan(["name": "nginx", "state": "started", "enabled": true], enabled: "enabled", active: "active")
        XCTAssertFalse(result.isChanged)
        XCTAssertEqual(result.result["state"], "started")
        XCTAssertEqual(result.result["enabled"], true)
    }

    func testStartStopEnableDisable() throws {
        XCTAssertEqual(try plan(["name": "nginx", "state": "started"], enabled: "enabled", active: "inactive").actions,
                       [.run(Command(["systemctl", "start", "nginx"]))])
        XCTAssertEqual(try plan(["name": "nginx", "state": "stopped"], enabled: "enabled", active: "active").actions,
                       [.run(Command(["systemctl", "stop", "nginx"]))])
        XCTAssertFalse(try plan(["name": "nginx", "state": "stopped"], enabled: "enabled", active: "failed").isChanged)
        XCTAssertEqual(try plan(["name": "nginx", "enabled": true], enabled: "disabled", active: "").actions,
                       [.run(Command(["systemctl", "enable", "nginx"]))])
        XCTAssertEqual(try plan(["name": "nginx", "enabled": false, "no_block": true], enabled: "enabled", active: "").actions,
                       [.run(Command(["systemctl", "--no-block", "disable", "nginx"]))])
        // A transiently enabled unit is enabled for good, as Ansible does.
        XCTAssertTrue(try plan(["name": "nginx", "enabled": true], enabled: "enabled-runtime", active: "").isChanged)
    }

    func testRestartedAndReloadedAlwaysAct() throws {
        XCTAssertEqual(try plan(["name": "nginx", "state": "restarted"], enabled: "enabled", active: "active").summaries, ["restart nginx"])
        XCTAssertEqual(try plan(["name": "nginx", "state": "restarted"], enabled: "enabled", active: "inactive").summaries, ["start nginx"])
        XCTAssertEqual(try plan(["name": "nginx", "state": "reloaded"], enabled: "enabled", active: "active").summaries, ["reload nginx"])
    }

    func testMaskingAndDaemonReloadComeFirst() throws {
        let result = try plan(["name": "nginx", "masked": false, "enabled": true, "state": "started", "daemon_reload": true],
                              enabled: "masked", active: "inactive")
        XCTAssertEqual(result.summaries, ["daemon-reload", "unmask nginx", "enable nginx", "start nginx"])
        XCTAssertFalse(try plan(["name": "nginx", "masked": true], enabled: "masked", active: "").isChanged)
        XCTAssertEqual(try plan(["name": "nginx", "masked": true], enabled: "enabled", active: "").actions,
                       [.run(Command(["systemctl", "mask", "nginx"]))])
    }

    func testDaemonReloadAlone() throws {
        let module = try service(["daemon_reload": true])
        XCTAssertEqual(module.observations(systemd), [])
        XCTAssertEqual(try F.plan(module, context: systemd).actions, [.run(Command(["systemctl", "daemon-reload"]))])
    }

    func testUserScopeFindsTheUserManager() throws {
        // The script hands its arguments to systemctl --user, with the runtime directory of the uid it runs as.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("provision-systemctl-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let fake = folder.appendingPathComponent("systemctl")
        try Data("#!/bin/sh\necho \"$XDG_RUNTIME_DIR $*\"\n".utf8).write(to: fake)
        chmod(fake.path, 0o755)
        let run = try TestSupport.run("/bin/sh", Array(ServiceModule.userManager.dropFirst()) + ["is-active", "my unit"],
                                      environment: ["PATH": folder.path + ":/usr/bin:/bin"])
        XCTAssertEqual(run.stdout, "/run/user/\(getuid()) --user is-active my unit\n")
        let module = try service(["name": "ollama", "scope": "user", "state": "started"])
        let prefix = ServiceModule.userManager
        XCTAssertEqual(module.observations(systemd), [.command(prefix + ["is-enabled", "ollama"]), .command(prefix + ["is-active", "ollama"])])
        let result = try F.plan(module, commands: [prefix + ["is-enabled", "ollama"]: F.ok("generated\n"),
                                                   prefix + ["is-active", "ollama"]: F.failed(3, "inactive\n")], context: systemd)
        XCTAssertEqual(result.actions, [.run(Command(prefix + ["start", "ollama"]))])
    }

    func testMissingUnitFails() throws {
        let result = try F.plan(try service(["name": "nginx", "state": "started"]),
                                commands: [enabledProbe: F.failed(1, "", "Failed to get unit file state for nginx.service: No such file or directory\n"),
                                           activeProbe: F.failed(3, "inactive\n")], context: systemd)
        XCTAssertEqual(result.failure, "Could not find the requested service nginx: host")
    }

    /// In check mode a unit that an earlier task installs is not there yet (a bundle's --dry-run: unit copied, then started).
    func testCheckModePlansAUnitNotInstalledYet() throws {
        var check = systemd
        check.checkMode = true
        let result = try F.plan(try service(["name": "nginx", "state": "started", "enabled": true]),
                                commands: [enabledProbe: F.failed(1, "", "Failed to get unit file state for nginx.service: No such file or directory\n"),
                                           activeProbe: F.failed(3, "inactive\n")], context: check)
        XCTAssertNil(result.failure)
        XCTAssertEqual(result.summaries, ["enable nginx (nginx is not installed yet)", "start nginx (nginx is not installed yet)"])
    }

    func testWithoutSystemdItFailsCleanly() throws {
        let module = try service(["name": "nginx", "state": "started"])
        let context = ModuleContext(facts: ValueDict([("service_mgr", "openrc")]))
        XCTAssertEqual(module.observations(context), [])
        XCTAssertEqual(try F.plan(module, context: context).failure, "systemd is not running here (PID 1 is openrc); cannot manage nginx")
    }

    func testArgumentErrors() {
        XCTAssertThrowsError(try service(["name": "nginx"])) {
            XCTAssertEqual(($0 as? ModuleError)?.message, "one of the following is required: state, enabled, masked, daemon_reload, daemon_reexec")
        }
        XCTAssertThrowsError(try service(["state": "started"]))
        XCTAssertThrowsError(try service(["name": "nginx*", "state": "started"]))
        XCTAssertThrowsError(try service(["name": "nginx", "state": "running"]))
        XCTAssertThrowsError(try service(["name": "nginx", "state": "started", "scope": "global"]))
    }
}
