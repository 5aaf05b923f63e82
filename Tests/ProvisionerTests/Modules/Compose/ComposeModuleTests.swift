import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

/// The compose module as "observed state in -> plan out": refusals before any host is touched, and
/// `mode: podman-compose` bringing a project up only when its effective configuration (the hash label) changed.
final class ComposeModuleTests: XCTestCase {
    typealias F = ModuleFixture

    let web: Value = .dict(ValueDict([("services", .dict(ValueDict([
        ("web", .dict(ValueDict([("image", "localhost/web:1"), ("ports", .list(["127.0.0.1:8080:80"]))]))),
    ])))]))

    func testRefusalsBeforeAnyHostIsTouched() {
        let bad: Value = .dict(ValueDict([("services", .dict(ValueDict([("web", .dict(ValueDict([("image", "x"), ("ports", .list(["66044:80"]))])))])))]))
        let table: [(KeyValuePairs<String, Value>, String)] = [
            (["definition": bad, "project_name": "p"], "services.web.ports[0]"),
            (["project_src": "srv/app"], "absolute path"),
            (["project_src": "/srv/app", "remove_volumes": true], "state: absent"),
            (["definition": web, "files": ["a.yml"]], "not both"),
            (["project_src": "/srv/app", "project_name": "Bad Name"], "not a project name"),
            (["project_src": "/srv/app", "env_file": ["a.env", "b.env"]], "one env file"),
            ([:], "project_src"),
        ]
        for (arguments, expected) in table {
            XCTAssertThrowsError(try F.make(ComposeModule.self, arguments), "\(arguments)") { error in
                XCTAssertTrue("\(error)".contains(expected), "\(arguments): \(error)")
            }
        }
        XCTAssertThrowsError(try F.make(ComposeModule.self, ["definition": bad, "project_name": "p"])) { error in
            XCTAssertTrue("\(error)".contains("66044"), "\(error)")
        }
    }

    /// The read probe's answer for an inline definition (nothing to read), podman-compose present, and podman's
    /// containers as `podman ps -a --format json` gives them.
    func plan(_ module: ComposeModule, containers: [[String: Any]]) throws -> Plan {
        let listing = String(decoding: try JSONSerialization.data(withJSONObject: containers), as: UTF8.self)
        return try F.plan(module, commands: [
            module.read.argv: F.ok(""),
            ComposePodman.presence(module.scope).argv: F.ok("yes\n"),
            PodmanProbe.containers(module.scope).argv: F.ok(listing),
            PodmanProbe.images(module.scope).argv: F.ok("[]"),
        ])
    }

    func container(hash: String?, state: String = "running") -> [String: Any] {
        var labels = ["io.podman.compose.project": "shop", "com.docker.compose.project": "shop", "com.docker.compose.service": "web"]
        labels[ComposeModule.hashLabel] = hash
        return ["Names": ["shop_web_1"], "Labels": labels, "State": state, "ImageID": "abc"]
    }

    func testPodmanComposeUpOnlyWhenTheConfigurationChanged() throws {
        let module = try F.make(ComposeModule.self, ["definition": web, "project_name": "shop"])
        let fresh = try plan(module, containers: [])
        XCTAssertEqual(fresh.changes.map(\.summary), ["podman-compose up -d project shop"])
        guard let hash = fresh.result["hash"]?.string, hash.count >= 16 else { return XCTFail("no hash in \(fresh.result)") }

        XCTAssertEqual(try plan(module, containers: [container(hash: hash)]).changes.count, 0, "the same configuration runs: nothing to do")
        XCTAssertEqual(try plan(module, containers: [container(hash: hash, state: "exited")]).changes.map(\.summary), ["start shop_web_1 (project shop)"])
        let changed = try plan(module, containers: [container(hash: "0123456789abcdef")])
        XCTAssertEqual(changed.changes.map(\.summary), ["recreate project shop: the configuration of shop changed"])
        let foreign = try plan(module, containers: [container(hash: nil)])
        XCTAssertEqual(foreign.changes.map(\.summary), ["recreate project shop: web was not made by provision"])

        let other = try F.make(ComposeModule.self, ["definition": web, "project_name": "shop", "profiles": ["debug"]])
        XCTAssertNotEqual(try plan(other, containers: []).result["hash"]?.string, hash, "the profiles are part of the configuration")

        let absent = try F.make(ComposeModule.self, ["definition": web, "project_name": "shop", "state": "absent"])
        XCTAssertEqual(try plan(absent, containers: [container(hash: hash)]).changes.map(\.summary), ["podman-compose down project shop (shop_web_1)"])
        XCTAssertEqual(try plan(absent, containers: []).changes.count, 0)
    }

    /// A rootless project of a user an earlier task creates: --check plans it, a run without the user fails clearly.
    func testPodmanComposeForAUserNotYetCreated() throws {
        let module = try F.make(ComposeModule.self, ["definition": web, "project_name": "shop", "scope": "user", "user": "alice"])
        func plan(check: Bool) throws -> Plan {
            try F.plan(module, commands: [
                module.read.argv: F.ok(""),
                ComposePodman.presence(module.scope).argv: F.ok("yes\n"),
                PodmanProbe.containers(module.scope).argv: F.ok("nouser\n"),
                PodmanProbe.images(module.scope).argv: F.ok("nouser\n"),
            ], context: ModuleContext(checkMode: check))
        }
        XCTAssertEqual(try plan(check: true).changes.map(\.summary), ["podman-compose up -d project shop"])
        XCTAssertThrowsError(try plan(check: false)) { error in
            XCTAssertTrue("\(error)".contains("there is no user alice"), "\(error)")
        }
    }

    /// A project running as units is not taken over by podman-compose behind the units' back.
    func testPodmanComposeRefusesAProjectRunningAsUnits() throws {
        let module = try F.make(ComposeModule.self, ["definition": web, "project_name": "shop"])
        let unit: [String: Any] = ["Names": ["shop-web-1"], "Labels": ["com.docker.compose.project": "shop", "com.docker.compose.service": "web"],
                                   "State": "running", "ImageID": "abc"]
        XCTAssertThrowsError(try plan(module, containers: [unit])) { error in
            XCTAssertTrue("\(error)".contains("runs as systemd units"), "\(error)")
        }
    }
}
