import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

/// The container module's spec-hash idempotency (the anchors recreate containers on every run: ours must
/// not, for any argument) and the image module's pulls, archives, moved tags and refusals.
final class ContainerImageModuleTests: XCTestCase {
    typealias F = ModuleFixture
    typealias P = PodmanFixture

    let system = PodmanScope(user: nil)

    /// Every argument of the container module, each with a value.
    let everything: [(String, Value)] = [
        ("name", "app"), ("image", "localhost/app:1"), ("command", "/bin/httpd -f -p 8080"), ("entrypoint", "/bin/sh"),
        ("ports", .list(["127.0.0.1:8080:8080", "127.0.0.1:8443:8443/tcp"])), ("volumes", .list(["data:/data", "/srv/conf:/conf:ro"])),
        ("env", .dict(ValueDict([("A", "1"), ("B", "two words")]))), ("env_file", .list(["/srv/app.env"])),
        ("devices", .list(["/dev/null:/dev/x"])), ("container_user", "1000:1000"), ("network", .list(["app"])),
        ("labels", .dict(ValueDict([("team", "ops")]))), ("restart", "always"), ("workdir", "/srv"), ("hostname", "app1"),
        ("cap_add", .list(["NET_ADMIN"])), ("cap_drop", .list(["MKNOD"])), ("stop_timeout", 3),
    ]

    func container(_ pairs: [(String, Value)]) throws -> ContainerModule {
        try ContainerModule(ModuleArguments.validate(ValueDict(pairs), against: ContainerModule.arguments, module: "container"))
    }

    func plan(_ module: ContainerModule, containers: [(String, [String: String], String, String)], images: [(String, [String], [String])] = [],
              envFiles: String = "aaaa\n") throws -> Plan {
        var commands = [PodmanProbe.containers(system).argv: P.containers(containers), PodmanProbe.images(system).argv: P.images(images)]
        if !module.envFiles.isEmpty { commands[module.envProbe] = F.ok(envFiles) }
        return try F.plan(module, commands: commands)
    }

    func testEveryArgumentIsCarriedOutAndNoneRecreatesOnARerun() throws {
        let module = try container(everything)
        let fresh = try plan(module, containers: [])
        XCTAssertEqual(fresh.summaries, ["create container app and start it"])
        guard case .run(let run)? = fresh.actions.first else { return XCTFail("\(fresh.actions)") }
        let hash = try XCTUnwrap(fresh.result["spec"]?.string)
        XCTAssertEqual(run.argv, ["podman", "run", "--detach", "--name", "app", "--label", "provision.spec=\(hash)",
                                  "--publish", "127.0.0.1:8080:8080", "--publish", "127.0.0.1:8443:8443/tcp",
                                  "--volume", "data:/data", "--volume", "/srv/conf:/conf:ro", "--env", "A=1", "--env", "B=two words",
                                  "--env-file", "/srv/app.env", "--device", "/dev/null:/dev/x", "--user", "1000:1000", "--network", "app",
                                  "--label", "team=ops", "--restart", "always", "--workdir", "/srv", "--hostname", "app1",
                                  "--cap-add", "NET_ADMIN", "--cap-drop", "MKNOD", "--entrypoint", "/bin/sh", "--stop-timeout", "3",
                                  "localhost/app:1", "/bin/httpd", "-f", "-p", "8080"])
        // The rerun: the container carries the label, the image is the one it runs.
        let running = [("app", ["provision.spec": hash, "team": "ops"], "running", "img1")]
        XCTAssertEqual(try plan(module, containers: running, images: [("img1", ["localhost/app:1"], [])]).summaries, [])
        // Sets whose order means nothing: reordered, still the same spec.
        var reordered = everything
        reordered[4] = ("ports", .list(["127.0.0.1:8443:8443/tcp", "127.0.0.1:8080:8080"]))
        XCTAssertEqual(try container(reordered).specHash(ContainerModule.State(envFiles: ["aaaa"])), hash)
        // Each argument changed alone changes the spec (and so recreates), except the ones that are no spec.
        for (index, (name, value)) in everything.enumerated() where name != "name" {
            var changed = everything
            changed[index] = (name, name == "restart" ? "no" : name == "env_file" ? .list(["/srv/other.env"]) : altered(value))
            let other = try container(changed)
            XCTAssertNotEqual(other.specHash(ContainerModule.State(envFiles: ["aaaa"])), hash, "changing \(name) must change the spec")
        }
        // An env file's content is part of the spec.
        XCTAssertNotEqual(module.specHash(ContainerModule.State(envFiles: ["bbbb"])), hash)
    }

    func altered(_ value: Value) -> Value {
        switch value {
        case .string(let s): return .string(s + "x")
        case .int(let i): return .int(i + 1)
        case .list(let items): return .list(items + [.string("9999")])
        case .dict(let d): return .dict(d.merging(ValueDict([("EXTRA", "1")])))
        default: return value
        }
    }

    func testRecreatesOnlyForAReason() throws {
        let module = try container([("name", "app"), ("image", "localhost/app:1")])
        let hash = try XCTUnwrap(try plan(module, containers: []).result["spec"]?.string)
        let changed = try plan(module, containers: [("app", ["provision.spec": "old"], "running", "img1")], images: [("img1", ["localhost/app:1"], [])])
        XCTAssertEqual(changed.summaries, ["recreate container app: its spec changed"])
        XCTAssertEqual(changed.actions.count, 2)
        let foreign = try plan(module, containers: [("app", [:], "running", "img1")])
        XCTAssertEqual(foreign.summaries, ["recreate container app: it was not created by provision (no provision.spec label)"])
        let newImage = try plan(module, containers: [("app", ["provision.spec": hash], "running", "img1")], images: [("img2", ["localhost/app:1"], [])])
        XCTAssertEqual(newImage.summaries, ["recreate container app: localhost/app:1 now names another image (img2, was img1)"])
        let stopped = try plan(module, containers: [("app", ["provision.spec": hash], "exited", "img1")], images: [("img1", ["localhost/app:1"], [])])
        XCTAssertEqual(stopped.summaries, ["start container app"])
        let forced = try container([("name", "app"), ("image", "localhost/app:1"), ("recreate", true)])
        XCTAssertEqual(try plan(forced, containers: [("app", ["provision.spec": hash], "running", "img1")], images: [("img1", ["localhost/app:1"], [])]).summaries,
                       ["recreate container app: recreate: true"])
    }

    func testStatesAndRefusals() throws {
        let stop = try container([("name", "app"), ("image", "localhost/app:1"), ("state", "stopped")])
        let hash = stop.specHash(ContainerModule.State())
        XCTAssertEqual(try plan(stop, containers: [("app", ["provision.spec": hash], "running", "i")], images: [("i", ["localhost/app:1"], [])]).summaries,
                       ["stop container app"])
        let absent = try container([("name", "app"), ("state", "absent")])
        XCTAssertEqual(try plan(absent, containers: [("app", [:], "running", "i")]).summaries, ["remove container app"])
        XCTAssertEqual(try plan(absent, containers: []).summaries, [])
        for (pairs, message) in [([("name", "app")], "needs image"), ([("name", "app"), ("image", "localhost/app")], "is not pinned"),
                                 ([("name", "app"), ("image", "a:1"), ("ports", .list(["66044:80"]))], "port 66044 is out of range (1-65535)"),
                                 ([("name", "app"), ("image", "a:1"), ("user", "1000")], "the user inside the container is container_user"),
                                 ([("name", "app"), ("image", "a:1"), ("restart", "sometimes")], "restart must be"),
                                 ([("name", "app"), ("image", "a:1"), ("env_file", .list(["app.env"]))], "must be absolute")] as [([(String, Value)], String)] {
            XCTAssertThrowsError(try container(pairs)) { XCTAssertTrue("\($0)".contains(message), "\($0) should say \(message)") }
        }
    }

    // MARK: image

    func image(_ pairs: [(String, Value)]) throws -> ImageModule {
        try ImageModule(ModuleArguments.validate(ValueDict(pairs), against: ImageModule.arguments, module: "image"))
    }

    func plan(_ module: ImageModule, images: [(String, [String], [String])], registry: String? = nil,
              context: ModuleContext = ModuleContext()) throws -> Plan {
        var commands = [PodmanProbe.images(module.scope).argv: P.images(images)]
        if let registry { commands[module.registryProbe] = F.ok(registry + "\n") }
        return try F.plan(module, commands: commands, context: context)
    }

    func testPullsByTagAndDigestOnlyWhenMissing() throws {
        let tag = try image([("name", "registry.example/app:1")])
        let missing = try plan(tag, images: [])
        XCTAssertEqual(missing.summaries, ["pull registry.example/app:1"])
        guard case .run(let pull)? = missing.actions.first else { return XCTFail("\(missing.actions)") }
        XCTAssertEqual(pull.label, "podman pull --quiet registry.example/app:1")
        XCTAssertEqual(Array(pull.argv.suffix(5)), ["registry.example/app:1", "podman", "pull", "--quiet", "registry.example/app:1"])
        XCTAssertEqual(try plan(tag, images: [("i1", ["registry.example/app:1"], ["registry.example/app@sha256:" + String(repeating: "a", count: 64)])]).summaries, [])
        let digest = "registry.example/app@sha256:" + String(repeating: "a", count: 64)
        XCTAssertEqual(try plan(try image([("name", .string(digest))]), images: [("i1", [], [digest])]).summaries, [])
        // A short name matches what podman resolved it to.
        XCTAssertEqual(try plan(try image([("name", "nextcloud:31")]), images: [("i1", ["docker.io/library/nextcloud:31"], [])]).summaries, [])
        let insecure = try image([("name", "127.0.0.1:5501/app:1"), ("validate_certs", false)])
        guard case .run(let insecurePull)? = try plan(insecure, images: []).actions.first else { return XCTFail("no pull") }
        XCTAssertEqual(insecurePull.label, "podman pull --quiet --tls-verify=false 127.0.0.1:5501/app:1")
    }

    func testAMovedTagIsPulledAndReported() throws {
        let module = try image([("name", "registry.example/app:1"), ("pull", "always")])
        let a = "sha256:" + String(repeating: "a", count: 64), b = "sha256:" + String(repeating: "b", count: 64)
        let here = [("i1", ["registry.example/app:1"], ["registry.example/app@" + a])]
        XCTAssertEqual(try plan(module, images: here, registry: "remote " + a).summaries, [])
        let moved = try plan(module, images: here, registry: "remote " + b)
        XCTAssertEqual(moved.summaries, ["pull registry.example/app:1: the tag moved (here \(a), the registry has \(b))"])
        XCTAssertEqual(moved.result["moved"], true)
        // An archive loaded, then pushed: podman lists both digests under the registry's name; both are named.
        let c = "sha256:" + String(repeating: "c", count: 64)
        let loadedAndPushed = [("i1", ["registry.example/app:1", "localhost/app:1"],
                                ["localhost/app@" + c, "localhost/app@" + a, "registry.example/app@" + c, "registry.example/app@" + a])]
        XCTAssertEqual(try plan(module, images: loadedAndPushed, registry: "remote " + b).summaries,
                       ["pull registry.example/app:1: the tag moved (here \(c) or \(a), the registry has \(b))"])
        let unreachable = try plan(module, images: here, registry: "remote! " + Data("pinging container registry: connection refused".utf8).base64EncodedString())
        XCTAssertEqual(unreachable.failure, "cannot ask the registry for registry.example/app:1: pinging container registry: connection refused")
        XCTAssertTrue(try plan(module, images: here, registry: "remote!").failure?.contains("needs skopeo") ?? false)
    }

    func testArchivesAreCopiedAndLoadedOnlyWhenMissing() throws {
        let bytes: [UInt8] = Array("archive".utf8)
        let context = ModuleContext(readControllerFile: { path, _ in
            guard path == "app.tar" else { throw ModuleError("no \(path)") }
            return bytes
        })
        let module = try image([("name", "localhost/app:1"), ("archive", "app.tar")])
        let load = try plan(module, images: [], context: context)
        XCTAssertEqual(load.summaries, ["load localhost/app:1 from app.tar"])
        guard case .writeFile(let path, let content, let attributes, _)? = load.actions.first, case .run(let command)? = load.actions.last else {
            return XCTFail("\(load.actions)")
        }
        XCTAssertEqual(content, bytes)
        XCTAssertEqual(attributes.mode, 0o600)
        XCTAssertEqual(Array(command.argv.suffix(3)), [path, "localhost/app:1", "0"])
        XCTAssertEqual(try plan(module, images: [("i", ["localhost/app:1"], [])], context: context).summaries, [])
        // The host is the controller (install.sh of a bundle): loaded in place, never read or copied.
        let onHost = ModuleContext(readControllerFile: { path, _ in throw ModuleError("read \(path)") },
                                   locateControllerFileOnHost: { path, _ in "/bundle/files/" + path })
        let inPlace = try plan(module, images: [], context: onHost)
        XCTAssertEqual(inPlace.actions.count, 1, "\(inPlace.actions)")
        guard case .run(let direct)? = inPlace.actions.first else { return XCTFail("\(inPlace.actions)") }
        XCTAssertEqual(Array(direct.argv.suffix(3)), ["/bundle/files/app.tar", "localhost/app:1", "1"])
        let remote = try image([("name", "localhost/app:1"), ("archive", "/srv/app.tar"), ("remote_src", true)])
        XCTAssertEqual(try plan(remote, images: []).actions.count, 1)
        let never = try image([("name", "localhost/app:1"), ("pull", "never")])
        XCTAssertTrue(try plan(never, images: []).failure?.contains("pull: never") ?? false)
        let absent = try image([("name", "localhost/app:1"), ("state", "absent")])
        XCTAssertEqual(try plan(absent, images: [("i", ["localhost/app:1"], [])]).summaries, ["remove image localhost/app:1"])
        XCTAssertThrowsError(try image([("name", "localhost/app:1"), ("archive", "a.tar"), ("pull", "always")]))
        XCTAssertThrowsError(try image([("name", "localhost/app")])) { XCTAssertTrue("\($0)".contains("is not pinned"), "\($0)") }
        let user = try image([("name", "localhost/app:1"), ("scope", "user"), ("user", "ann")])
        XCTAssertEqual(PodmanProbe.images(user.scope).argv.suffix(5), ["/bin/sh", "-c", PodmanScope.readerScript, "as-user", "ann"])
    }
}

/// volume_backup and volume_restore as plans: an archive with its sha256 stands; a restore is refused under
/// running containers, skipped over data unless forced, and checks the sha256 in its script first.
final class VolumeArchiveModuleTests: XCTestCase {
    typealias F = ModuleFixture

    func probe(_ volume: String) -> [String] { VolumeArchive.probe(volume, PodmanScope(user: nil)).argv }

    func testBackup() throws {
        let module = try F.make(VolumeBackupModule.self, ["name": "models", "dest": "/var/backups/models.tar"])
        let fresh = try F.plan(module, commands: [probe("models"): F.ok("mountpoint /var/lib/containers/storage/volumes/models/_data\ndata\n")])
        XCTAssertEqual(fresh.summaries, ["back up volume models to /var/backups/models.tar"])
        let kept = try F.plan(module, files: ["/var/backups/models.tar": F.file("x"), "/var/backups/models.tar.sha256": F.file("y")],
                              commands: [probe("models"): F.ok("mountpoint /x\n")])
        XCTAssertEqual(kept.summaries, [])
        XCTAssertEqual(try F.plan(module, commands: [probe("models"): F.ok("")]).failure, "there is no volume models in root's podman to back up")
        XCTAssertThrowsError(try F.make(VolumeBackupModule.self, ["name": "models", "dest": "backup.tar"]))
    }

    func testRestore() throws {
        let module = try F.make(VolumeRestoreModule.self, ["name": "models", "src": "/var/backups/models.tar"])
        let archive = ["/var/backups/models.tar": F.file("x"), "/var/backups/models.tar.sha256": F.file("y")]
        let missing = try F.plan(module, files: archive, commands: [probe("models"): F.ok("")])
        XCTAssertEqual(missing.summaries, ["restore volume models from /var/backups/models.tar (creating it)"])
        guard case .run(let command)? = missing.actions.first else { return XCTFail("\(missing.actions)") }
        XCTAssertEqual(Array(command.argv.suffix(4)), ["volume-restore", "models", "/var/backups/models.tar", "0"])
        XCTAssertTrue(VolumeArchive.restoreScript.contains("does not match"), "the script checks the sha256 before it changes anything")
        let inUse = try F.plan(module, files: archive, commands: [probe("models"): F.ok("mountpoint /x\ndata\nuser ollama-granite4\n")])
        XCTAssertEqual(inUse.failure, "volume models is in use by running containers (ollama-granite4): stop them first")
        XCTAssertEqual(try F.plan(module, files: archive, commands: [probe("models"): F.ok("mountpoint /x\ndata\n")]).summaries, [])
        let forced = try F.make(VolumeRestoreModule.self, ["name": "models", "src": "/var/backups/models.tar", "force": true])
        XCTAssertEqual(try F.plan(forced, files: archive, commands: [probe("models"): F.ok("mountpoint /x\ndata\n")]).summaries.count, 1)
        XCTAssertEqual(try F.plan(module, files: ["/var/backups/models.tar": F.file("x")], commands: [probe("models"): F.ok("")]).failure,
                       "/var/backups/models.tar.sha256 does not exist: without it the archive cannot be checked")
    }
}
