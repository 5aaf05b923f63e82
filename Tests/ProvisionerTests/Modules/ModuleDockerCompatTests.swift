import XCTest
@testable import Modules
@testable import Provisioner

final class ModuleDockerCompatTests: XCTestCase {
    typealias F = ModuleFixture

    let debian = ModuleContext(facts: ValueDict([("pkg_mgr", "apt"), ("os_family", "Debian")]))
    let fedora = ModuleContext(facts: ValueDict([("pkg_mgr", "dnf"), ("os_family", "RedHat")]))

    let packages = ["docker-ce", "docker.io", "moby-engine", "podman-docker"]
    var dpkg: [String] { PackageManager.apt.installedProbe(packages) }
    var rpm: [String] { PackageManager.dnf.installedProbe(packages) }
    /// dpkg's listing when none of them is installed.
    let nothing = CommandOutput(status: 0, stdout: "bash\tii \t5.2.15-2+b8\tamd64\tshells\tDebian\n")

    let dockerWrapper = "#!/bin/sh\n# Docker CLI compatibility (container runtime standard §2.2): docker runs podman.\nexec podman \"$@\"\n"
    let composeWrapper = "#!/bin/sh\n# Docker Compose compatibility (container runtime standard §2.3): docker-compose runs podman-compose.\n"
        + "exec podman-compose \"$@\"\n"

    func compat(_ arguments: KeyValuePairs<String, Value>) throws -> DockerCompatModule { try F.make(DockerCompatModule.self, arguments) }

    func write(_ path: String, _ text: String, backup: Bool = false) -> Action {
        .writeFile(path: path, content: Array(text.utf8), attributes: FileAttributes(mode: 0o755, owner: "root", group: "root"), backup: backup)
    }

    func testDeclaration() {
        XCTAssertEqual(DockerCompatModule.name, "docker_compat")
        XCTAssertEqual(DockerCompatModule.arguments.map(\.name), ["state", "method", "compose", "bin_dir"])
        XCTAssertThrowsError(try compat(["bin_dir": "bin"])) { error in
            XCTAssertEqual((error as? ModuleError)?.message, "bin_dir must be an absolute path, not 'bin'")
        }
        XCTAssertThrowsError(try compat(["method": "symlink"]))
    }

    func testMissingWrappersAreWritten() throws {
        let module = try compat([:])
        XCTAssertEqual(module.observations(debian), [.command(dpkg), .file(path: "/usr/local/bin", content: false),
                                                     .file(path: "/usr/local/bin/docker", content: true),
                                                     .file(path: "/usr/local/bin/docker-compose", content: true)])
        let plan = try F.plan(module, files: ["/usr/local/bin": F.directory()], commands: [dpkg: nothing], context: debian)
        XCTAssertEqual(plan.summaries, ["create /usr/local/bin/docker (docker runs podman)",
                                        "create /usr/local/bin/docker-compose (docker-compose runs podman-compose)"])
        XCTAssertEqual(plan.actions, [write("/usr/local/bin/docker", dockerWrapper), write("/usr/local/bin/docker-compose", composeWrapper)])
        XCTAssertEqual(plan.changes.first?.diff, TextDiff(label: "/usr/local/bin/docker", before: "", after: dockerWrapper))
        XCTAssertEqual(plan.result["method"], "wrapper")
        XCTAssertEqual(plan.result["docker"], "/usr/local/bin/docker")
    }

    func testOurWrappersAreConverged() throws {
        let plan = try F.plan(try compat([:]), files: [
            "/usr/local/bin": F.directory(),
            "/usr/local/bin/docker": F.file(dockerWrapper, mode: 0o755),
            "/usr/local/bin/docker-compose": F.file(composeWrapper, mode: 0o755),
        ], commands: [dpkg: nothing], context: debian)
        XCTAssertFalse(plan.isChanged)
    }

    func testOurWrapperWithWrongModeGetsItsAttributes() throws {
        let plan = try F.plan(try compat(["compose": false]), files: [
            "/usr/local/bin": F.directory(), "/usr/local/bin/docker": F.file(dockerWrapper, mode: 0o644, owner: "ann"),
        ], commands: [dpkg: nothing], context: debian)
        XCTAssertEqual(plan.actions, [.setAttributes(path: "/usr/local/bin/docker", attributes: FileAttributes(mode: 0o755, owner: "root", group: "root"))])
    }

    func testForeignFileIsReplacedWithABackup() throws {
        let standardSnippet = "#!/bin/bash\nexec podman \"$@\"\n"
        let plan = try F.plan(try compat(["compose": false]), files: [
            "/usr/local/bin": F.directory(), "/usr/local/bin/docker": F.file(standardSnippet, mode: 0o755),
        ], commands: [dpkg: nothing], context: debian)
        XCTAssertEqual(plan.summaries, ["replace /usr/local/bin/docker with a wrapper running podman (backup kept)"])
        XCTAssertEqual(plan.actions, [write("/usr/local/bin/docker", dockerWrapper, backup: true)])
        XCTAssertEqual(plan.changes.first?.diff?.before, standardSnippet)
    }

    func testOlderWordingOfOursIsRewrittenWithoutBackup() throws {
        let older = "#!/bin/sh\n# Docker CLI compatibility (container runtime standard): docker runs podman.\nexec podman \"$@\"\n"
        let plan = try F.plan(try compat(["compose": false]), files: [
            "/usr/local/bin": F.directory(), "/usr/local/bin/docker": F.file(older, mode: 0o755),
        ], commands: [dpkg: nothing], context: debian)
        XCTAssertEqual(plan.actions, [write("/usr/local/bin/docker", dockerWrapper)])
    }

    func testLinkToPodmanComplies() throws {
        // The standard's §9.1 fix: ln -s /usr/bin/podman /usr/local/bin/docker.
        let plan = try F.plan(try compat([:]), files: [
            "/usr/local/bin": F.directory(), "/usr/local/bin/docker": F.link(to: "/usr/bin/podman"),
            "/usr/local/bin/docker-compose": F.link(to: "../../bin/podman-compose"),
        ], commands: [dpkg: nothing], context: debian)
        XCTAssertFalse(plan.isChanged)
        // A link elsewhere is replaced by the wrapper (the rename replaces the link itself).
        let other = try F.plan(try compat(["compose": false]), files: [
            "/usr/local/bin": F.directory(), "/usr/local/bin/docker": F.link(to: "/opt/docker/bin/docker"),
        ], commands: [dpkg: nothing], context: debian)
        XCTAssertEqual(other.summaries, ["replace link /usr/local/bin/docker -> /opt/docker/bin/docker with a wrapper running podman"])
        XCTAssertEqual(other.actions, [write("/usr/local/bin/docker", dockerWrapper)])
    }

    func testDirectoryInTheWayFails() throws {
        let plan = try F.plan(try compat(["compose": false]), files: ["/usr/local/bin": F.directory(), "/usr/local/bin/docker": F.directory()],
                              commands: [dpkg: nothing], context: debian)
        XCTAssertEqual(plan.failure, "/usr/local/bin/docker is a directory; move it away so docker can run podman")
    }

    func testMissingBinDirIsCreated() throws {
        let plan = try F.plan(try compat(["bin_dir": "/opt/compat/bin", "compose": false]), commands: [dpkg: nothing], context: debian)
        XCTAssertEqual(plan.summaries, ["create directory /opt/compat/bin", "create /opt/compat/bin/docker (docker runs podman)"])
    }

    func testDockerEngineIsRefused() throws {
        let plan = try F.plan(try compat([:]), files: ["/usr/local/bin": F.directory()],
                              commands: [dpkg: CommandOutput(status: 1, stdout: "docker-ce\tii \t5:27.3.1-1~debian.12~bookworm\tamd64\n")],
                              context: debian)
        XCTAssertEqual(plan.failure, "Docker Engine is installed (docker-ce): the container runtime standard wants one runtime per host, podman. "
            + "Migrate its containers first (standard §6.1), then stop it (systemctl disable --now docker.socket docker) "
            + "and remove it (apt-get remove docker-ce)")
        let fedoraPlan = try F.plan(try compat([:]), files: ["/usr/local/bin": F.directory()],
                                    commands: [rpm: F.ok("moby-engine\tmoby-engine\t24.0.5-1.fc39\n")], context: fedora)
        XCTAssertTrue(fedoraPlan.failure?.hasSuffix("(dnf remove moby-engine)") == true, fedoraPlan.failure ?? "")
        // Only removed leftovers (configuration files) do not count.
        let leftover = try F.plan(try compat(["compose": false]), files: ["/usr/local/bin": F.directory()],
                                  commands: [dpkg: CommandOutput(status: 1, stdout: "docker.io\trc \t20.10.24\tamd64\n")], context: debian)
        XCTAssertNil(leftover.failure)
    }

    func testRedHatUsesThePackage() throws {
        let module = try compat([:])
        // The docker wrapper is not looked at: podman-docker's /usr/bin/docker does the job.
        XCTAssertEqual(module.observations(fedora), [.command(rpm), .file(path: "/usr/local/bin", content: false),
                                                     .file(path: "/usr/local/bin/docker-compose", content: true)])
        let plan = try F.plan(module, files: ["/usr/local/bin": F.directory()], commands: [rpm: F.ok("")], context: fedora)
        XCTAssertEqual(plan.summaries, ["install podman-docker",
                                        "create /usr/local/bin/docker-compose (docker-compose runs podman-compose)"])
        XCTAssertEqual(plan.actions.first, .run(Command(["dnf", "install", "-y", "podman-docker"])))
        XCTAssertEqual(plan.result["method"], "package")
        XCTAssertEqual(plan.result["docker"], "/usr/bin/docker")
        let converged = try F.plan(module, files: ["/usr/local/bin": F.directory(), "/usr/local/bin/docker-compose": F.file(composeWrapper, mode: 0o755)],
                                   commands: [rpm: F.ok("podman-docker\tpodman-docker\t5.2.0-1.fc40\n")], context: fedora)
        XCTAssertFalse(converged.isChanged)
    }

    func testPackageMethodOnDebian() throws {
        let plan = try F.plan(try compat(["method": "package", "compose": false]), commands: [dpkg: nothing], context: debian)
        XCTAssertEqual(plan.actions, [PackageManager.apt.installCommand(["podman-docker"])].map { .run($0) })
    }

    func testPackageMethodNeedsAPackageManager() throws {
        let alpine = ModuleContext(facts: ValueDict([("pkg_mgr", "apk"), ("os_family", "Alpine")]))
        let plan = try F.plan(try compat(["method": "package", "compose": false]), context: alpine)
        XCTAssertEqual(plan.failure, "no supported package manager (apt or dnf) on this host; facts say pkg_mgr=apk; use method: wrapper")
        // The wrapper works without one (there is then no Docker Engine check).
        let wrapper = try F.plan(try compat(["compose": false]), files: ["/usr/local/bin": F.directory()], context: alpine)
        XCTAssertEqual(wrapper.actions, [write("/usr/local/bin/docker", dockerWrapper)])
    }

    func testAbsentRemovesOnlyOurWrappers() throws {
        let module = try compat(["state": "absent"])
        XCTAssertEqual(module.observations(debian), [.command(dpkg), .file(path: "/usr/local/bin/docker", content: true),
                                                     .file(path: "/usr/local/bin/docker-compose", content: true)])
        let plan = try F.plan(module, files: [
            "/usr/local/bin/docker": F.file(dockerWrapper, mode: 0o755),
            "/usr/local/bin/docker-compose": F.file("#!/bin/sh\nexec /opt/compose \"$@\"\n", mode: 0o755),
        ], commands: [dpkg: nothing], context: debian)
        XCTAssertEqual(plan.summaries, ["remove /usr/local/bin/docker"])
        XCTAssertEqual(plan.actions, [.remove(path: "/usr/local/bin/docker")])
        // A link is left alone, as is a host with nothing of ours.
        let linked = try F.plan(module, files: ["/usr/local/bin/docker": F.link(to: "/usr/bin/podman")], commands: [dpkg: nothing], context: debian)
        XCTAssertFalse(linked.isChanged)
    }

    func testAbsentWithThePackageRemovesIt() throws {
        let plan = try F.plan(try compat(["state": "absent", "compose": false]),
                              commands: [rpm: F.ok("podman-docker\tpodman-docker\t5.2.0-1.fc40\n")], context: fedora)
        XCTAssertEqual(plan.actions, [.run(Command(["dnf", "remove", "-y", "podman-docker"]))])
        // Absent never refuses over Docker Engine: removing our compatibility is always safe.
        let engine = try F.plan(try compat(["state": "absent", "compose": false]),
                                commands: [rpm: F.ok("docker-ce\tdocker-ce\t27.3.1-1.fc40\n")], context: fedora)
        XCTAssertNil(engine.failure)
        XCTAssertFalse(engine.isChanged)
    }
}
