import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

/// The quadlet module as "observed state in -> plan out": unit text, drop-ins, version gating, the
/// generator's verdict, the restart set handed to the engine, absent and purge.
final class QuadletModuleTests: XCTestCase {
    typealias F = ModuleFixture
    typealias P = PodmanFixture

    let web: KeyValuePairs<String, Value> = [
        "name": "web",
        "sections": .dict(ValueDict([
            ("Unit", .dict(ValueDict([("Description", "web")]))),
            ("Container", .dict(ValueDict([("Image", "localhost/web:1"), ("PublishPort", .list(["127.0.0.1:8080:80", "127.0.0.1:8443:443"])),
                                           ("Environment", .dict(ValueDict([("A", "1"), ("GREETING", "hello world")])))]))),
            ("Install", .dict(ValueDict([("WantedBy", "multi-user.target")]))),
        ])),
    ]

    let webText = """
    # Written by provision: edit the task, not this file.
    [Unit]
    Description=web

    [Container]
    Image=localhost/web:1
    PublishPort=127.0.0.1:8080:80
    PublishPort=127.0.0.1:8443:443
    Environment=A=1
    Environment="GREETING=hello world"

    [Install]
    WantedBy=multi-user.target

    """

    func quadlet(_ arguments: KeyValuePairs<String, Value>) throws -> QuadletModule { try F.make(QuadletModule.self, arguments) }

    /// Plans `module` against a listing, the check's answer and restart_on files.
    func plan(_ module: QuadletModule, listing: CommandOutput, check: String? = "same", files: [String: FileState] = [:],
              checkMode: Bool = false) throws -> Plan {
        let context = ModuleContext(checkMode: checkMode)
        var commands = [QuadletProbe.listing(module.scope).argv: listing]
        if module.present, let check { commands[try module.check(context).argv] = check.hasPrefix("fail ") ? CommandOutput(status: 0, stdout: check + "\n") : P.check(check) }
        return try F.plan(module, files: files, commands: commands, context: context)
    }

    // MARK: Declaration

    func testUnitTextFromSections() throws {
        XCTAssertEqual(try quadlet(web).unit?.text, webText)
        // The main section is written even when the task gives no keys for it.
        XCTAssertEqual(try quadlet(["name": "data", "type": "volume", "sections": .dict(ValueDict())]).unit?.text,
                       "# Written by provision: edit the task, not this file.\n[Volume]\n")
        // name: x.network means type network.
        let network = try quadlet(["name": "app.network", "sections": .dict(ValueDict())])
        XCTAssertEqual(network.kind, .network)
        XCTAssertEqual(network.file, "app.network")
    }

    func testRefusedBeforeAnyHost() throws {
        let refusals: [(KeyValuePairs<String, Value>, String)] = [
            (["name": "web", "sections": .dict(ValueDict([("Container", .dict(ValueDict([("PublishPort", "127.0.0.1:66044:11434")])))]))],
             "port 66044 is out of range (1-65535)"),
            (["name": "web", "content": "[Container]\nImage=x:1\nPublishPort=0:80\n"], "port 0 is out of range (1-65535)"),
            (["name": "web"], "state: present needs one of sections, content or src"),
            (["name": "web", "content": "[Container]\n", "sections": .dict(ValueDict())], "give one of sections, content or src"),
            (["name": "web/x", "content": "[Container]\n"], "is not a unit name"),
            (["name": "data.volume", "type": "network", "sections": .dict(ValueDict())], "name data.volume says .volume but type is network"),
            (["name": "web", "content": "[Container]\n", "timeout": 0], "timeout must be at least 1 second"),
            (["name": "web", "type": "container", "state": "absent", "purge": true], "purge applies to .volume, .network, .image and .build"),
            (["name": "web", "content": "[Container]\n", "purge": true], "purge: true goes with state: absent"),
            (["name": "web", "content": "[Container]\n", "user": "ann"], "user: is for scope: user"),
            (["name": "web", "content": "[Container]\n", "scope": "user"], "scope: user needs user:"),
            (["name": "web", "content": "[Container]\n", "restart_on": .list(["relative.conf"])], "restart_on paths must be absolute"),
            (["name": "web", "sections": .dict(ValueDict([("Container", .dict(ValueDict([("Exec", "a\nb")])))]))], "holds a line break"),
            (["name": "web", "sections": .dict(ValueDict([("Container", "Image=x")]))], "must be a mapping of keys to values"),
            (["name": "web", "content": "[Container]\n", "dropins": .dict(ValueDict([("limits", .dict(ValueDict()))]))], "must be a file name ending in .conf"),
        ]
        for (arguments, message) in refusals {
            XCTAssertThrowsError(try quadlet(arguments), "\(arguments)") { error in
                XCTAssertTrue("\(error)".contains(message), "\(error) should say \(message)")
            }
        }
    }

    func testObservesTheScopeListingTheCheckAndRestartOnFiles() throws {
        let module = try quadlet(["name": "web", "content": "[Container]\nImage=x:1\n", "restart_on": .list(["/srv/web.conf"])])
        let observations = module.observations(ModuleContext())
        XCTAssertEqual(observations.count, 3)
        XCTAssertEqual(observations[0], QuadletProbe.listing(PodmanScope(user: nil)))
        XCTAssertEqual(observations[1], .file(path: "/srv/web.conf", content: false))
        // The listing is the same command for every task of the scope: the engine reads it once.
        XCTAssertEqual(try quadlet(["name": "db", "content": "[Container]\nImage=y:1\n"]).observations(ModuleContext())[0], observations[0])
        XCTAssertNotEqual(QuadletProbe.listing(PodmanScope(user: "ann")), observations[0])
    }

    // MARK: Plans

    func testFreshHostWritesTheUnitAndAsksForReloadAndStart() throws {
        let module = try quadlet(web)
        let result = try plan(module, listing: P.listing(exists: false), check: "ok 5.4.2")
        XCTAssertEqual(result.summaries, ["create /etc/containers/systemd", "create /etc/containers/systemd/web.container", "start web.service"])
        XCTAssertEqual(result.actions, [
            .makeDirectory(path: "/etc/containers/systemd", attributes: FileAttributes(mode: 0o755)),
            .writeFile(path: "/etc/containers/systemd/web.container", content: Array(webText.utf8), attributes: FileAttributes(mode: 0o644), backup: false),
        ])
        XCTAssertEqual(result.changes[1].diff, TextDiff(label: "/etc/containers/systemd/web.container", before: "", after: webText))
        XCTAssertEqual(result.units, [UnitRequest(manager: .system, unit: "web.service", operation: .restart, reload: true, rank: 3, timeout: 120)])
        XCTAssertEqual(result.result["service"], "web.service")
    }

    func testConvergedUnitIsLeftRunning() throws {
        let result = try plan(try quadlet(web), listing: P.listing(files: ["web.container": (1_000, webText)], services: ["web.service": P.running()]))
        XCTAssertEqual(result.summaries, [])
        XCTAssertEqual(result.units, [])
    }

    func testOneChangedKeyUpdatesTheFileAndRestartsThatUnit() throws {
        let old = webText.replacingOccurrences(of: "Description=web", with: "Description=old")
        let result = try plan(try quadlet(web), listing: P.listing(files: ["web.container": (1_000, old)], services: ["web.service": P.running()]),
                              check: "ok 5.4.2")
        XCTAssertEqual(result.summaries, ["update /etc/containers/systemd/web.container", "restart web.service"])
        XCTAssertEqual(result.changes[0].diff?.before, old)
        XCTAssertEqual(result.units.map(\.operation), [.restart])
        XCTAssertEqual(result.units.map(\.reload), [true])
    }

    func testStoppedUnchangedUnitIsStartedWithoutReload() throws {
        let result = try plan(try quadlet(web), listing: P.listing(files: ["web.container": (1_000, webText)], services: ["web.service": P.stopped]))
        XCTAssertEqual(result.summaries, ["start web.service"])
        XCTAssertEqual(result.units, [UnitRequest(manager: .system, unit: "web.service", operation: .start, reload: false, rank: 3, timeout: 120)])
    }

    /// A file changed after the service started (a config it mounts, a drop-in, the unit written by an
    /// earlier run that stopped before restarting it): the service restarts, and only then.
    func testRestartsWhatChangedSinceTheServiceStarted() throws {
        let module = try quadlet(["name": "web", "content": .string(webText), "restart_on": .list(["/srv/web.conf"])])
        let listing = P.listing(files: ["web.container": (1_000, webText)], services: ["web.service": P.running(since: 2_000)])
        let newer = try plan(module, listing: listing, files: ["/srv/web.conf": F.file("x", modified: 2_500)])
        XCTAssertEqual(newer.summaries, ["restart web.service (/srv/web.conf changed since it started)"])
        XCTAssertEqual(newer.units.map(\.operation), [.restart])
        XCTAssertEqual(newer.units.map(\.reload), [false])
        let older = try plan(module, listing: listing, files: ["/srv/web.conf": F.file("x", modified: 1_500)])
        XCTAssertEqual(older.summaries, [])
        // The unit file is newer than the generator's last output: no daemon-reload since it changed.
        let reloadPending = P.listing(files: ["web.container": (1_000, webText)],
                                      services: ["web.service": P.running().merging(["generated": "900"]) { $1 }])
        let pending = try plan(module, listing: reloadPending, files: ["/srv/web.conf": F.file("x", modified: 1_500)])
        XCTAssertEqual(pending.summaries, ["restart web.service (web.container changed since the last daemon-reload)"])
        XCTAssertEqual(pending.units.map(\.reload), [true])
    }

    func testDropInsAreTheCompleteSet() throws {
        let module = try quadlet(["name": "web", "content": .string(webText),
                                  "dropins": .dict(ValueDict([("10-limits.conf", .dict(ValueDict([("Container", .dict(ValueDict([("PodmanArgs", "--cpus=2")])))])))]))])
        let limits = "# Written by provision: edit the task, not this file.\n[Container]\nPodmanArgs=--cpus=2\n"
        let fresh = try plan(module, listing: P.listing(files: ["web.container": (1_000, webText)], services: ["web.service": P.running()]),
                             check: "ok 5.4.2")
        XCTAssertEqual(fresh.summaries, ["create /etc/containers/systemd/web.container.d", "create /etc/containers/systemd/web.container.d/10-limits.conf",
                                         "restart web.service"])
        let stale = try plan(module, listing: P.listing(files: ["web.container": (1_000, webText), "web.container.d/10-limits.conf": (1_000, limits),
                                                                "web.container.d/20-old.conf": (1_000, "[Container]\n")],
                                                        services: ["web.service": P.running()]), check: "ok 5.4.2")
        XCTAssertEqual(stale.summaries, ["remove /etc/containers/systemd/web.container.d/20-old.conf (not among the task's drop-ins)", "restart web.service"])
        XCTAssertEqual(stale.actions, [.remove(path: "/etc/containers/systemd/web.container.d/20-old.conf")])
        // Without `dropins:` the folder is someone else's.
        let unmanaged = try plan(try quadlet(["name": "web", "content": .string(webText)]),
                                 listing: P.listing(files: ["web.container": (1_000, webText), "web.container.d/20-old.conf": (1_000, "[Container]\n")],
                                                    services: ["web.service": P.running()]))
        XCTAssertEqual(unmanaged.summaries, [])
    }

    /// The restart set, as a table: what the host holds -> what the task says and the one request it hands
    /// the engine (which unit, start or restart, whether a daemon-reload must come first, its rank).
    func testTheRestartSet() throws {
        let front = try quadlet(["name": "lab-front", "sections": .dict(ValueDict([("Container", .dict(ValueDict([("Image", "localhost/web:1"), ("Pod", "lab.pod")])))]))])
        let frontText = try XCTUnwrap(front.unit?.text)
        let pod = "[Pod]\nPodName=lab\n"
        let limits = "[Container]\nPodmanArgs=--cpus=2\n"
        let limited = try quadlet(["name": "web", "content": .string(webText), "dropins": .dict(ValueDict([("10-limits.conf", .string(limits))]))])
        let stopped = try quadlet(["name": "web", "content": .string(webText), "started": false])
        let rows: [(String, QuadletModule, CommandOutput, String, [String], [UnitRequest])] = [
            ("a changed container of a pod restarts with its pod", front,
             P.listing(files: ["lab.pod": (1_000, pod), "lab-front.container": (1_000, "[Container]\nImage=localhost/web:0\nPod=lab.pod\n")],
                       services: ["lab-front.service": P.running(), "lab-pod.service": P.running()]), "ok 5.4.2",
             ["update /etc/containers/systemd/lab-front.container", "restart lab-pod.service (lab-front.container is in it)"],
             [UnitRequest(manager: .system, unit: "lab-pod.service", operation: .restart, reload: true, rank: 2, timeout: 120)]),
            ("a stopped container of a running pod is started alone", front,
             P.listing(files: ["lab.pod": (1_000, pod), "lab-front.container": (1_000, frontText)],
                       services: ["lab-front.service": P.stopped, "lab-pod.service": P.running()]), "same",
             ["start lab-front.service"],
             [UnitRequest(manager: .system, unit: "lab-front.service", operation: .start, reload: false, rank: 3, timeout: 120)]),
            ("a drop-in newer than the running service (the reload done) restarts it, no reload", limited,
             P.listing(files: ["web.container": (1_000, webText), "web.container.d/10-limits.conf": (2_500, limits)],
                       services: ["web.service": P.running(since: 2_000).merging(["generated": "2600"]) { $1 }]), "same",
             ["restart web.service (drop-in 10-limits.conf changed since it started)"],
             [UnitRequest(manager: .system, unit: "web.service", operation: .restart, reload: false, rank: 3, timeout: 120)]),
            ("a unit file systemd never loaded: reload, then (re)start", try quadlet(web),
             P.listing(files: ["web.container": (1_000, webText)], services: ["web.service": ["LoadState": "not-found"]]), "same",
             ["restart web.service (web.container changed since the last daemon-reload)"],
             [UnitRequest(manager: .system, unit: "web.service", operation: .restart, reload: true, rank: 3, timeout: 120)]),
            ("started: false with a reload due: the reload alone", stopped,
             P.listing(files: ["web.container": (1_000, webText)], services: ["web.service": P.stopped.merging(["generated": "900"]) { $1 }]), "same",
             ["daemon-reload (web.container changed since the last one)"],
             [UnitRequest(manager: .system, reload: true)]),
            ("a volume changed: restarted first (rank 1)", try quadlet(["name": "data", "type": "volume", "sections": .dict(ValueDict())]),
             P.listing(files: ["data.volume": (1_000, "[Volume]\nVolumeName=old\n")], services: ["data-volume.service": P.running()]), "ok 5.4.2",
             ["update /etc/containers/systemd/data.volume", "restart data-volume.service"],
             [UnitRequest(manager: .system, unit: "data-volume.service", operation: .restart, reload: true, rank: 1, timeout: 120)]),
            ("a new .kube unit: its service keeps the unit's name and starts after the containers (rank 4)",
             try quadlet(["name": "lab", "type": "kube", "sections": .dict(ValueDict([("Kube", .dict(ValueDict([("Yaml", "/srv/lab.yaml")])))]))]),
             P.listing(), "ok 5.4.2",
             ["create /etc/containers/systemd/lab.kube", "start lab.service"],
             [UnitRequest(manager: .system, unit: "lab.service", operation: .restart, reload: true, rank: 4, timeout: 120)]),
        ]
        for (name, module, listing, check, summaries, units) in rows {
            let result = try plan(module, listing: listing, check: check)
            XCTAssertEqual(result.summaries, summaries, name)
            XCTAssertEqual(result.units, units, name)
        }
    }

    func testPodmanVersionGating() throws {
        let cases: [(KeyValuePairs<String, Value>, String, String)] = [
            (web, "none 4.3.1", "quadlet needs podman ≥ 4.4; this host has 4.3.1"),
            (["name": "app", "type": "pod", "sections": .dict(ValueDict())], "ok 4.9.3", "a .pod unit needs podman ≥ 5.0; this host has 4.9.3"),
            (["name": "app", "type": "build", "sections": .dict(ValueDict([("Build", .dict(ValueDict([("ImageTag", "localhost/app:1")])))]))], "ok 5.0.3",
             "a .build unit needs podman ≥ 5.2; this host has 5.0.3"),
            (["name": "web", "content": .string(webText), "dropins": .dict(ValueDict([("a.conf", "[Container]\n")]))], "ok 4.9.3",
             "quadlet drop-ins need podman ≥ 5.0; this host has 4.9.3"),
            (web, "none -", "quadlet needs podman ≥ 4.4; podman is not installed on this host"),
            (["name": "base", "type": "image", "sections": .dict(ValueDict([("Image", .dict(ValueDict([("Image", "localhost/base:1")])))]))], "ok 4.7.0",
             "a .image unit needs podman ≥ 4.8; this host has 4.7.0"),
            (web, "none 5.4.2", "podman 5.4.2 has no quadlet generator here (podman-system-generator): install podman's quadlet"),
        ]
        for (arguments, check, message) in cases {
            XCTAssertThrowsError(try plan(try quadlet(arguments), listing: P.listing(exists: false), check: check)) { error in
                XCTAssertEqual((error as? ModuleError)?.message, message)
            }
        }
        // In check mode a host without podman yet (an earlier task installs it) is no failure.
        let check = try plan(try quadlet(web), listing: P.listing(exists: false), check: "none -", checkMode: true)
        XCTAssertTrue(check.summaries[0].contains("podman is not installed yet"), "\(check.summaries)")
    }

    func testGeneratorRejectionNamesTheKeyAndVersion() throws {
        let stderr = """
        quadlet-generator[12]: Loading source unit file /tmp/tmp.x/u/web.container
        quadlet-generator[12]: converting "other.container": unsupported key 'Old' in group 'Container' in /tmp/tmp.x/u/other.container
        quadlet-generator[12]: converting "web.container": unsupported key 'Memory' in group 'Container' in /tmp/tmp.x/u/web.container

        """
        XCTAssertThrowsError(try plan(try quadlet(web), listing: P.listing(exists: false),
                                      check: P.generatorFailure(version: "5.4.2", stderr).stdout.trimmingTrailingNewlines)) { error in
            XCTAssertEqual((error as? ModuleError)?.message, "the host's quadlet generator (podman 5.4.2) rejects web.container: "
                           + "unsupported key 'Memory' in group 'Container'; nothing was changed")
            XCTAssertEqual((error as? ModuleError)?.argument, "sections")
        }
        // Another file's errors are not this task's.
        let others = "quadlet-generator[12]: converting \"other.container\": unsupported key 'Old' in group 'Container' in /x\n"
        XCTAssertEqual(try plan(try quadlet(web), listing: P.listing(exists: false),
                                check: P.generatorFailure(version: "5.4.2", others).stdout.trimmingTrailingNewlines).summaries.count, 3)
    }

    func testCheckModeStandsInForReferencedUnits() throws {
        let module = try quadlet(["name": "web", "content": "[Container]\nImage=x:1\nVolume=data.volume:/data\nNetwork=app.network\nMount=type=volume,source=logs.volume,destination=/logs\n"])
        let check = try module.check(ModuleContext(checkMode: true))
        XCTAssertTrue(check.argv.contains("data.volume") && check.argv.contains("app.network") && check.argv.contains("logs.volume"), "\(check.argv)")
        XCTAssertFalse(try module.check(ModuleContext()).argv.contains("data.volume"))
    }

    func testStartedFalseStopsARunningService() throws {
        let result = try plan(try quadlet(["name": "web", "content": .string(webText), "started": false]),
                              listing: P.listing(files: ["web.container": (1_000, webText)], services: ["web.service": P.running()]))
        XCTAssertEqual(result.summaries, ["stop web.service"])
        XCTAssertEqual(result.actions, [.run(Command(["systemctl", "stop", "web.service"], label: "systemctl stop web.service"))])
        XCTAssertEqual(result.units, [])
    }

    func testAbsentStopsRemovesAndReloads() throws {
        let module = try quadlet(["name": "web", "state": "absent"])
        let result = try plan(module, listing: P.listing(files: ["web.container": (1_000, webText), "web.container.d/a.conf": (1_000, "[Container]\n")],
                                                         services: ["web.service": P.running()]))
        XCTAssertEqual(result.summaries, ["stop web.service", "remove /etc/containers/systemd/web.container", "remove /etc/containers/systemd/web.container.d"])
        XCTAssertEqual(result.units, [UnitRequest(manager: .system, reload: true)])
        XCTAssertEqual(try plan(module, listing: P.listing()).summaries, [])
    }

    func testPurgeRemovesTheVolumeOnlyWhenAskedAndKeepsItOtherwise() throws {
        let volume = "[Volume]\nVolumeName=ollama-data\n"
        let listing = P.listing(files: ["data.volume": (1_000, volume)], services: ["data-volume.service": P.running()])
        let kept = try plan(try quadlet(["name": "data", "type": "volume", "state": "absent"]), listing: listing)
        XCTAssertFalse(kept.summaries.contains { $0.contains("purge") }, "\(kept.summaries)")
        let purged = try plan(try quadlet(["name": "data", "type": "volume", "state": "absent", "purge": true]), listing: listing)
        XCTAssertEqual(purged.summaries.last, "remove volume ollama-data (purge)")
        guard case .run(let command)? = purged.actions.last else { return XCTFail("\(purged.actions)") }
        XCTAssertEqual(command.label, "podman volume rm ollama-data")
        XCTAssertEqual(Array(command.argv.suffix(4)), ["purge", "volume", "ollama-data", "podman"])
    }

    /// What purge removes with each kind of unit: the object its unit names, or quadlet's default name.
    func testPurgeRemovesTheObjectTheUnitNames() throws {
        let rows: [(QuadletKind, String, String?)] = [
            (.volume, "[Volume]\n", "remove volume systemd-data (purge)"),
            (.network, "[Network]\nNetworkName=lab\n", "remove network lab (purge)"),
            (.network, "[Network]\n", "remove network systemd-data (purge)"),
            (.image, "[Image]\nImage=localhost/base:1\n", "remove image localhost/base:1 (purge)"),
            (.build, "[Build]\nImageTag=localhost/app:1\nSetWorkingDirectory=/\n", "remove image localhost/app:1 (purge)"),
            (.image, "[Image]\n", nil),
        ]
        for (kind, text, summary) in rows {
            let file = "data.\(kind.rawValue)"
            let listing = P.listing(files: [file: (1_000, text)], services: [kind.service(name: "data", unit: UnitFile(sections: [])): P.stopped])
            let result = try plan(try quadlet(["name": "data", "type": .string(kind.rawValue), "state": "absent", "purge": true]), listing: listing)
            XCTAssertEqual(result.summaries.first, "remove /etc/containers/systemd/\(file)", text)
            XCTAssertEqual(result.summaries.count, summary == nil ? 1 : 2, "\(result.summaries)")
            if let summary { XCTAssertEqual(result.summaries.last, summary, text) }
            XCTAssertEqual(result.units, [UnitRequest(manager: .system, reload: true)])
        }
    }

    /// A user that does not exist: nothing of theirs to remove (state: absent), and an error naming the user otherwise.
    func testAbsentForAUserThatDoesNotExistChangesNothing() throws {
        let module = try quadlet(["name": "web", "scope": "user", "user": "ghost", "state": "absent"])
        let result = try plan(module, listing: CommandOutput(status: 0, stdout: "nouser\n"))
        XCTAssertEqual(result.summaries, [])
        XCTAssertEqual(result.result["state"], "absent")
    }

    func testUserScopeRunsThroughTheUsersManager() throws {
        let module = try quadlet(["name": "web", "scope": "user", "user": "ann", "content": .string(webText)])
        let home = "/home/ann/.config/containers/systemd"
        let result = try plan(module, listing: P.listing(directory: home, exists: false), check: "ok 5.4.2")
        XCTAssertEqual(result.actions.first, .makeDirectory(path: home, attributes: FileAttributes(mode: 0o755, owner: "ann", group: "ann")))
        XCTAssertEqual(result.units.first?.manager.user, "ann")
        XCTAssertEqual(result.units.first?.manager.systemctl(["daemon-reload"]),
                       ["/bin/sh", "-c", PodmanScope.runnerScript, "as-user", "ann", "systemctl", "--user", "daemon-reload"])
        let down = CommandOutput(status: 0, stdout: "dir 1 \(home)\nmanager " + Data("Failed to connect to bus".utf8).base64EncodedString() + "\n")
        XCTAssertThrowsError(try plan(module, listing: down, check: "ok 5.4.2")) { error in
            XCTAssertTrue("\(error)".contains("enable lingering for it first"), "\(error)")
        }
        XCTAssertThrowsError(try plan(module, listing: CommandOutput(status: 0, stdout: "nouser\n"), check: "same")) { error in
            XCTAssertTrue("\(error)".contains("there is no user ann"), "\(error)")
        }
    }

    func testATemplateIsRenderedCheckedAndWritten() throws {
        let module = try quadlet(["name": "web", "src": "web.container.j2"])
        XCTAssertEqual(module.controllerFiles.map(\.path), ["web.container.j2"])
        let context = ModuleContext(readControllerFile: { path, kind in
            XCTAssertEqual(kind, .template)
            return Array("[Container]\nImage={{ image }}\nPublishPort=127.0.0.1:8080:80\n".utf8)
        }, renderTemplate: { text, _ in text.replacingOccurrences(of: "{{ image }}", with: "localhost/web:1") })
        let rendered = "[Container]\nImage=localhost/web:1\nPublishPort=127.0.0.1:8080:80\n"
        XCTAssertTrue(try module.check(context).argv.contains(rendered), "the generator checks the rendered text")
        let result = try F.plan(module, commands: [QuadletProbe.listing(module.scope).argv: P.listing(), try module.check(context).argv: P.check("ok 5.4.2")],
                                context: context)
        XCTAssertEqual(result.changes[0].diff?.after, rendered)
        // A rendered port out of range is refused as a written one is, before anything changes.
        let bad = ModuleContext(readControllerFile: { _, _ in Array("[Container]\nPublishPort=70000:80\n".utf8) })
        XCTAssertThrowsError(try module.plan(Observations(), bad)) { XCTAssertTrue("\($0)".contains("port 70000 is out of range"), "\($0)") }
    }

    func testServiceNames() throws {
        let cases: [(QuadletKind, String)] = [(.container, "web.service"), (.volume, "web-volume.service"), (.network, "web-network.service"),
                                              (.pod, "web-pod.service"), (.kube, "web.service"), (.image, "web-image.service"), (.build, "web-build.service")]
        for (kind, service) in cases { XCTAssertEqual(kind.service(name: "web", unit: UnitFile(sections: [])), service) }
        let custom = try UnitFile(parsing: "[Container]\nServiceName=custom\n", name: "x")
        XCTAssertEqual(QuadletKind.container.service(name: "web", unit: custom), "custom.service")
    }
}
