import XCTest
@testable import Modules
@testable import Provisioner

final class ModuleAccountTests: XCTestCase {
    typealias F = ModuleFixture

    func user(_ arguments: KeyValuePairs<String, Value>) throws -> UserModule { try F.make(UserModule.self, arguments) }
    func group(_ arguments: KeyValuePairs<String, Value>) throws -> GroupModule { try F.make(GroupModule.self, arguments) }

    let passwd = ["getent", "passwd", "ollama"]
    let ids = ["id", "-Gn", "ollama"]
    let alice = "ollama:x:991:991:Ollama:/var/lib/ollama:/usr/sbin/nologin\n"
    let groupsOutput = "ollama:x:991:\nvideo:x:44:ollama\nrender:x:105:ollama\ndocker:x:998:\n"

    func groupProbe(_ names: String...) -> [String] { ["getent", "group", "ollama"] + names }

    // MARK: user

    func testMissingUserIsCreated() throws {
        let module = try user(["name": "ollama", "uid": 991, "system": true, "shell": "/usr/sbin/nologin", "home": "/var/lib/ollama",
                               "groups": ["video", "render"], "comment": "Ollama"])
        let plan = try F.plan(module, commands: [passwd: F.failed(2), ids: F.failed(1),
                                                 groupProbe("video", "render"): F.ok("video:x:44:\nrender:x:105:\n")])
        XCTAssertEqual(plan.summaries, ["create user ollama"])
        XCTAssertEqual(plan.actions, [.run(Command(["useradd", "-u", "991", "-G", "video,render", "-c", "Ollama", "-d", "/var/lib/ollama",
                                                    "-s", "/usr/sbin/nologin", "-m", "-r", "ollama"]))])
        XCTAssertEqual(plan.result["uid"], 991)
    }

    func testExistingGroupOfTheSameNameMeansNoUserGroup() throws {
        let plan = try F.plan(try user(["name": "ollama", "create_home": false]),
                              commands: [passwd: F.failed(2), groupProbe(): F.ok("ollama:x:991:\n")])
        XCTAssertEqual(plan.actions, [.run(Command(["useradd", "-N", "-M", "ollama"]))])
    }

    func testConvergedUserIsNoChange() throws {
        let module = try user(["name": "ollama", "uid": 991, "group": "ollama", "groups": ["video", "render"], "shell": "/usr/sbin/nologin",
                               "home": "/var/lib/ollama", "comment": "Ollama"])
        let plan = try F.plan(module, commands: [passwd: F.ok(alice), ids: F.ok("ollama video render\n"),
                                                 groupProbe("ollama", "video", "render"): F.ok(groupsOutput)])
        XCTAssertFalse(plan.isChanged)
        XCTAssertEqual(plan.result["group"], 991)
    }

    func testEachAspectChangesAlone() throws {
        let facts = [passwd: F.ok(alice), ids: F.ok("ollama video\n")]
        func plan(_ arguments: KeyValuePairs<String, Value>, groups: [String] = []) throws -> Plan {
            var commands = facts
            commands[["getent", "group", "ollama"] + groups] = F.ok(groupsOutput)
            return try F.plan(try user(arguments), commands: commands)
        }
        XCTAssertEqual(try plan(["name": "ollama", "uid": 992]).actions, [.run(Command(["usermod", "-u", "992", "ollama"]))])
        XCTAssertEqual(try plan(["name": "ollama", "shell": "/bin/bash"]).summaries, ["shell of ollama: '/usr/sbin/nologin' -> '/bin/bash'"])
        XCTAssertEqual(try plan(["name": "ollama", "comment": "LLM"]).actions, [.run(Command(["usermod", "-c", "LLM", "ollama"]))])
        XCTAssertEqual(try plan(["name": "ollama", "home": "/srv/ollama", "move_home": true]).actions,
                       [.run(Command(["usermod", "-d", "/srv/ollama", "-m", "ollama"]))])
        XCTAssertEqual(try plan(["name": "ollama", "group": "docker"], groups: ["docker"]).actions,
                       [.run(Command(["usermod", "-g", "998", "ollama"]))])
        XCTAssertEqual(try plan(["name": "ollama", "groups": ["render"]], groups: ["render"]).actions,
                       [.run(Command(["usermod", "-G", "render", "ollama"]))])
        XCTAssertEqual(try plan(["name": "ollama", "groups": ["render"], "append": true], groups: ["render"]).actions,
                       [.run(Command(["usermod", "-a", "-G", "render", "ollama"]))])
        XCTAssertFalse(try plan(["name": "ollama", "groups": ["video"], "append": true], groups: ["video"]).isChanged)
        XCTAssertEqual(try plan(["name": "ollama", "groups": []]).actions, [.run(Command(["usermod", "-G", "", "ollama"]))])
        XCTAssertFalse(try plan(["name": "ollama", "groups": [], "append": true]).isChanged)
        // Listing the primary group among the supplementary ones is not a change.
        XCTAssertFalse(try plan(["name": "ollama", "groups": ["ollama", "video"]], groups: ["ollama", "video"]).isChanged)
    }

    func testMissingGroupsFail() throws {
        let plan = try F.plan(try user(["name": "ollama", "groups": ["nope"]]),
                              commands: [passwd: F.ok(alice), ids: F.ok("ollama\n"), groupProbe("nope"): F.failed(2, "")])
        XCTAssertEqual(plan.failure, "Group nope does not exist")
        let primary = try F.plan(try user(["name": "ollama", "group": "nope"]), commands: [passwd: F.failed(2), groupProbe("nope"): F.failed(2)])
        XCTAssertEqual(primary.failure, "Group nope does not exist")
    }

    /// In check mode a group an earlier task would create does not exist yet (a bundle's --dry-run: group, then user).
    func testCheckModePlansTheUserOfAGroupNotCreatedYet() throws {
        let plan = try F.plan(try user(["name": "ollama", "group": "ollama", "system": true]), commands: [passwd: F.failed(2), groupProbe("ollama"): F.failed(2)],
                              context: ModuleContext(checkMode: true))
        XCTAssertNil(plan.failure)
        XCTAssertEqual(plan.summaries, ["create user ollama (group ollama does not exist yet)"])
        let numeric = try F.plan(try user(["name": "ollama", "group": "4242"]), commands: [passwd: F.failed(2), groupProbe("4242"): F.failed(2)],
                                 context: ModuleContext(checkMode: true))
        XCTAssertEqual(numeric.failure, "Group 4242 does not exist", "a gid is no group a task creates by that name")
    }

    func testUserRemoval() throws {
        let module = try user(["name": "ollama", "state": "absent", "remove": true])
        XCTAssertEqual(module.observations(ModuleContext()), [.command(passwd)])
        XCTAssertEqual(try F.plan(module, commands: [passwd: F.ok(alice)]).actions, [.run(Command(["userdel", "-r", "ollama"]))])
        XCTAssertFalse(try F.plan(module, commands: [passwd: F.failed(2)]).isChanged)
    }

    func testUserArgumentErrors() {
        XCTAssertThrowsError(try user([:]))
        XCTAssertThrowsError(try user(["name": "a:b"]))
        XCTAssertThrowsError(try user(["name": "a", "uid": "x"]))
    }

    // MARK: group

    func testGroupLifecycle() throws {
        let probe = ["getent", "group", "ollama"]
        let create = try F.plan(try group(["name": "ollama", "gid": 991, "system": true]), commands: [probe: F.failed(2)])
        XCTAssertEqual(create.actions, [.run(Command(["groupadd", "-g", "991", "-r", "ollama"]))])
        XCTAssertEqual(create.summaries, ["create group ollama"])
        XCTAssertFalse(try F.plan(try group(["name": "ollama", "gid": 991]), commands: [probe: F.ok("ollama:x:991:\n")]).isChanged)
        let regid = try F.plan(try group(["name": "ollama", "gid": 992, "non_unique": true]), commands: [probe: F.ok("ollama:x:991:\n")])
        XCTAssertEqual(regid.actions, [.run(Command(["groupmod", "-g", "992", "-o", "ollama"]))])
        XCTAssertEqual(regid.result["gid"], 992)
        let remove = try group(["name": "ollama", "state": "absent"])
        XCTAssertEqual(try F.plan(remove, commands: [probe: F.ok("ollama:x:991:\n")]).actions, [.run(Command(["groupdel", "ollama"]))])
        XCTAssertFalse(try F.plan(remove, commands: [probe: F.failed(2)]).isChanged)
        XCTAssertThrowsError(try group(["name": "g", "non_unique": true]))
    }
}
