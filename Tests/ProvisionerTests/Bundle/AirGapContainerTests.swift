import Foundation
import XCTest
@testable import Provisioner

/// The air-gapped host as seed 003 has it: a bare Debian container with no network at all (`--network none`: only
/// its loopback), reached with `podman cp` and `podman exec` as a USB stick reaches such a machine, with no Swift on
/// it. provision runs there as the static release binary that scripts/test.sh builds once and names in
/// PROVISION_STATIC_BINARY (`swift build -c release --static-swift-stdlib`, stripped). The containers are the
/// test-host images (testhosts/build-image.sh: debootstrap minbase with systemd, sshd, sudo, python3), run here
/// without their init. The bundles are made on this (connected) machine from the Debian archive.
final class AirGapContainerTests: XCTestCase {
    static var required: Bool { ProcessInfo.processInfo.environment["PROVISION_REQUIRE_INTEGRATION"] == "1" }
    static let prefix = ProcessInfo.processInfo.environment["PROVISION_BARE_PREFIX"] ?? "provision-bare-"

    var scratch: Scratch?
    var hosts: [BareHost] = []

    func skip(_ why: String) throws -> Never {
        if AirGapContainerTests.required { XCTFail(why) }
        throw XCTSkip(why)
    }

    /// The static binary and podman, or a skip (a failure under PROVISION_REQUIRE_INTEGRATION=1).
    func staticBinary() throws -> String {
        guard getuid() == 0 else { try skip("the bare containers run under root's podman; run the tests as root") }
        guard TestSupport.which("podman") != nil else { try skip("podman is missing (scripts/test.sh installs it)") }
        guard let binary = ProcessInfo.processInfo.environment["PROVISION_STATIC_BINARY"], !binary.isEmpty else {
            try skip("PROVISION_STATIC_BINARY is not set: scripts/test.sh builds the static binary once "
                + "(swift build -c release --static-swift-stdlib) and names it there")
        }
        guard FileManager.default.isExecutableFile(atPath: binary) else { try skip("PROVISION_STATIC_BINARY=\(binary) is not an executable") }
        return binary
    }

    /// A bare host of `release` (bookworm, trixie) with no network, removed at the end of the test.
    func bareHost(_ release: String) throws -> BareHost {
        let image = "localhost/provision-testhost-\(release):latest"
        if try BareHost.podman(["image", "exists", image]).status != 0 {
            let build = try TestSupport.run(TestSupport.packageRoot.appendingPathComponent("testhosts/build-image.sh").path, [release])
            guard build.status == 0 else { try skip("\(image) could not be built: \(build.stderr)") }
        }
        let host = try BareHost(name: AirGapContainerTests.prefix + release + "-\(getpid())-\(hosts.count)", image: image)
        hosts.append(host)
        // No network at all: the loopback alone.
        XCTAssertEqual(try host.exec(["ls", "/sys/class/net"]).stdout, "lo\n")
        // No Swift: no toolchain, no runtime libraries.
        XCTAssertNotEqual(try host.exec(["sh", "-c", "command -v swift || ls /usr/lib/swift /usr/lib/swift_static"]).status, 0)
        return host
    }

    override func tearDownWithError() throws {
        for host in hosts { host.remove() }
        hosts = []
        scratch?.remove()
    }

    func provision(_ arguments: [String]) throws -> TestSupport.Result {
        try TestSupport.run(try TestSupport.provisionBinary().path, arguments)
    }

    var architecture: String {
        get throws { try TestSupport.run("/usr/bin/dpkg", ["--print-architecture"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    // MARK: The static binary

    func testStaticBinaryRunsVersionAndALocalApplyOnBareDebian12And13() throws {
        let binary = try staticBinary()
        let expected = try provision(["--version"]).stdout
        XCTAssertFalse(expected.isEmpty)
        let play = """
            - hosts: localhost
              connection: local
              tasks:
                - file: {path: /srv/site, state: directory, mode: "0750"}
                - copy: {dest: /srv/site/motd, content: "hello {{ ansible_facts.distribution_release }}\\n", mode: "0644"}
                - lineinfile: {path: /srv/site/notes, line: "from the static binary", create: true, mode: "0600"}
                - command: {cmd: "touch /srv/site/ran", creates: /srv/site/ran}
            """
        let scratch = try Scratch()
        self.scratch = scratch
        let playPath = try scratch.write("site.yml", play)
        for release in ["bookworm", "trixie"] {
            let host = try bareHost(release)
            try host.copy(binary, to: "/usr/local/bin/provision")
            try host.copy(playPath, to: "/root/site.yml")
            let version = try host.exec(["/usr/local/bin/provision", "--version"])
            XCTAssertEqual(version.status, 0, release + ": " + version.stderr)
            XCTAssertEqual(version.stdout, expected, release)
            let first = try host.exec(["/usr/local/bin/provision", "apply", "/root/site.yml"])
            XCTAssertEqual(first.status, 0, release + ": " + first.stdout + first.stderr)
            XCTAssertTrue(first.stdout.contains("changed=4"), release + ": " + first.stdout)
            XCTAssertEqual(try host.exec(["cat", "/srv/site/motd"]).stdout, "hello \(release)\n")
            XCTAssertEqual(try host.exec(["cat", "/srv/site/notes"]).stdout, "from the static binary\n")
            XCTAssertEqual(try host.exec(["stat", "-c", "%a", "/srv/site"]).stdout, "750\n")
            let second = try host.exec(["/usr/local/bin/provision", "apply", "/root/site.yml"])
            XCTAssertTrue(second.stdout.contains("changed=0"), release + ": " + second.stdout)
        }
    }

    // MARK: Bundled packages

    /// A play installing jq (not on the bare image; it depends on libjq1 and libonig5), name from a variable.
    func writePlay(_ scratch: Scratch) throws -> String {
        try scratch.write("project/playbooks/site.yml", """
            - hosts: localhost
              connection: local
              vars:
                tool: jq
              tasks:
                - name: the tool, from the bundle offline
                  apt:
                    name: "{{ tool }}"
                    update_cache: true
                    install_recommends: false
            """)
    }

    func bundle(_ playbook: String, to output: String, _ extra: [String] = []) throws {
        let made = try provision(["bundle", playbook, "-o", output, "--binary", try staticBinary()] + extra)
        XCTAssertEqual(made.status, 0, made.stderr)
        guard made.status == 0 else { throw XCTSkip("no bundle (is the Debian archive reachable?): \(made.stderr)") }
    }

    /// The kernel's record of connection attempts in the host's network namespace: TCP connections opened (even on
    /// the loopback) and packets for any address off the machine, which find no route there (IPv4 and IPv6).
    /// (provision wakes its own threads through a UDP socket pair on 127.0.0.1, so UDP's counters are not asked.)
    func connectionCounters(_ host: BareHost) throws -> String {
        let snmp = try host.exec(["cat", "/proc/net/snmp"]).stdout.split(separator: "\n").map(String.init)
        func value(_ table: String, _ field: String) -> String {
            let rows = snmp.filter { $0.hasPrefix(table + ":") }
            guard rows.count == 2 else { return "?" }
            let names = rows[0].split(separator: " "), values = rows[1].split(separator: " ")
            return names.firstIndex(of: Substring(field)).map { String(values[$0]) } ?? "?"
        }
        let six = try host.exec(["cat", "/proc/net/snmp6"]).stdout.split(separator: "\n")
            .first { $0.hasPrefix("Ip6OutNoRoutes") }.map { String($0.split(separator: " ", omittingEmptySubsequences: true).last ?? "?") } ?? "?"
        return "tcp active opens \(value("Tcp", "ActiveOpens")), ipv4 no route \(value("Ip", "OutNoRoutes")), ipv6 no route \(six)"
    }

    func testBundledPackagesInstallOfflineOnBareDebian12SecondRunUnchanged() throws {
        _ = try staticBinary()
        let scratch = try Scratch()
        self.scratch = scratch
        try bundle(try writePlay(scratch), to: scratch.path("bundle"))
        let arch = try architecture
        XCTAssertEqual(scratch.read("bundle/CONTENTS"), "packages debian 12 bookworm \(arch)\tpackages/Packages\n")
        let repository = try FileManager.default.contentsOfDirectory(atPath: scratch.path("bundle/packages"))
        for name in ["jq_", "libjq1_", "libonig5_", "libc6_"] {
            XCTAssertTrue(repository.contains { $0.hasPrefix(name) && $0.hasSuffix("_\(arch).deb") }, "\(name) in \(repository)")
        }
        XCTAssertTrue(repository.contains("Packages") && repository.contains("Release"))

        let host = try bareHost("bookworm")
        XCTAssertNotEqual(try host.exec(["dpkg", "-s", "jq"]).status, 0, "jq is on the bare image already")
        try host.copy(scratch.path("bundle"), to: "/media/usb")
        let lists = try host.exec(["ls", "-A", "/var/lib/apt/lists"]).stdout
        let counters = try connectionCounters(host)

        let dry = try host.exec(["/media/usb/install.sh", "--dry-run"])
        XCTAssertEqual(dry.status, 0, dry.stdout + dry.stderr)
        XCTAssertTrue(dry.stdout.contains("-jq: absent\n+jq: installed\n"), dry.stdout)
        XCTAssertTrue(dry.stdout.contains("    plan: apt-get install -y -q "), dry.stdout)
        XCTAssertTrue(dry.stdout.contains(" jq (from the bundle)  [needs root: apt-get changes the system]\n"), dry.stdout)
        XCTAssertTrue(dry.stdout.hasSuffix("installation plan: 1 action(s), 1 need root: run the installation with sudo\n"), dry.stdout)
        XCTAssertNotEqual(try host.exec(["dpkg", "-s", "jq"]).status, 0, "--dry-run installed jq")

        let missing = try host.exec(["/media/usb/bin/provision", "apply", "--bundle", "/media/usb", "playbooks/site.yml", "-e", "tool=sl"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("site.yml:7:7: offline: package sl is not in the bundle"), missing.stderr)
        XCTAssertTrue(missing.stderr.contains("nothing was changed"), missing.stderr)

        let first = try host.exec(["/media/usb/install.sh"])
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertTrue(first.stdout.contains("changed=1"), first.stdout)
        XCTAssertEqual(try host.exec(["sh", "-c", "echo '{\"a\": [1, 2]}' | jq -c .a"]).stdout, "[1,2]\n")
        XCTAssertEqual(try host.exec(["dpkg-query", "-W", "-f", "${db:Status-Abbrev}", "libjq1", "libonig5"]).stdout, "ii ii ")
        let second = try host.exec(["/media/usb/install.sh"])
        XCTAssertEqual(second.status, 0, second.stdout + second.stderr)
        XCTAssertTrue(second.stdout.contains("changed=0"), second.stdout)

        XCTAssertEqual(try connectionCounters(host), counters, "the offline install opened connections")
        XCTAssertEqual(try host.exec(["ls", "-A", "/var/lib/apt/lists"]).stdout, lists, "the host's own package lists changed")
        XCTAssertEqual(try host.exec(["sh", "-c", "ls -d /tmp/provision-offline-apt.* 2>/dev/null | wc -l"]).stdout, "0\n")
    }

    func testBundleForDebian13InstallsOnTrixieWhereABookwormBundleIsRefused() throws {
        _ = try staticBinary()
        let scratch = try Scratch()
        self.scratch = scratch
        let play = try writePlay(scratch)
        try bundle(play, to: scratch.path("bookworm"))
        try bundle(play, to: scratch.path("trixie"), ["--packages-for", "debian:13"])
        let arch = try architecture
        XCTAssertEqual(scratch.read("trixie/CONTENTS"), "packages debian 13 trixie \(arch)\tpackages/Packages\n")

        let host = try bareHost("trixie")
        try host.copy(scratch.path("bookworm"), to: "/media/bookworm")
        let refused = try host.exec(["/media/bookworm/install.sh"])
        XCTAssertEqual(refused.status, 2, refused.stdout + refused.stderr)
        XCTAssertTrue(refused.stdout.contains("offline: the bundle's packages are for debian 12 (bookworm, \(arch)) and this host runs debian 13 (trixie, \(arch)): "
                                              + "make the bundle for this host's release (provision bundle --packages-for debian:13)"), refused.stdout)
        XCTAssertNotEqual(try host.exec(["dpkg", "-s", "jq"]).status, 0, "the refused bundle installed jq")

        try host.copy(scratch.path("trixie"), to: "/media/trixie")
        let first = try host.exec(["/media/trixie/install.sh"])
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertTrue(try host.exec(["jq", "--version"]).stdout.hasPrefix("jq-1.7"))
        let second = try host.exec(["/media/trixie/install.sh"])
        XCTAssertTrue(second.stdout.contains("changed=0"), second.stdout)
    }
}

/// A container with no network, running `sleep` (not its init): what a bare air-gapped machine offers a USB stick.
final class BareHost {
    let name: String
    static let common = ["--runtime", "runc", "--cgroup-manager=cgroupfs"]

    /// Through posix_spawn (`podman run -d` leaves conmon holding descriptors Foundation's Process waits on).
    static func podman(_ arguments: [String]) throws -> TestSupport.Result {
        try TestSupport.runSpawned(TestSupport.which("podman") ?? "/usr/bin/podman", common + arguments)
    }

    init(name: String, image: String) throws {
        self.name = name
        _ = try BareHost.podman(["rm", "-f", "-i", name])
        let run = try BareHost.podman(["run", "-d", "--name", name, "--network", "none", "--ulimit", "nofile=1024:1024",
                                       "--ulimit", "nproc=1024:1024", image, "sleep", "infinity"])
        guard run.status == 0 else { throw BundleError("podman run \(image) failed: \(run.stderr)") }
    }

    func exec(_ argv: [String]) throws -> TestSupport.Result {
        try BareHost.podman(["exec", name] + argv)
    }

    /// `podman cp` of a file or folder to `path` on the host.
    func copy(_ local: String, to path: String) throws {
        let copy = try BareHost.podman(["cp", local, "\(name):\(path)"])
        guard copy.status == 0 else { throw BundleError("podman cp \(local) failed: \(copy.stderr)") }
    }

    func remove() { _ = try? BareHost.podman(["rm", "-f", "-t", "0", name]) }
}
