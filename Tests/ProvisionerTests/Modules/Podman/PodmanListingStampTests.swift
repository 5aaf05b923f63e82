import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

/// The podman listings' stamps against the real podman: unchanged while podman's state is, and moved by
/// every change a listing shows — a tag, a container made, started, and one whose monitor died unseen.
final class PodmanListingStampTests: XCTestCase {
    let system = PodmanScope(user: nil)

    /// The listing probe run as the engine sends it: with `stamp`, or none kept yet ("+").
    func list(_ observation: Observation, stamp: String = "+") throws -> (stamp: String?, answer: String) {
        var argv = observation.argv
        argv[4] = stamp
        let output = try XCTUnwrap(try LocalTransport().observe([.command(argv)]).command(argv))
        XCTAssertEqual(output.status, 0, output.stderr)
        let (told, answer) = RememberedProbe.split(output)
        return (told, answer.stdout)
    }

    /// A stamp the host then finds the same. Other work on this machine's podman (test hosts being
    /// built, `podman exec` into them) moves stamps too, rightly: take a fresh one until one holds.
    func settled(_ observation: Observation, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        for _ in 0..<20 {
            let stamp = try XCTUnwrap(try list(observation).stamp, "the host's podman gives a stamp", file: file, line: line)
            if try list(observation, stamp: stamp).answer == "@same\n" { return stamp }
            usleep(200_000)
        }
        XCTFail("the stamp never held", file: file, line: line)
        return ""
    }

    /// The stamp after a change: moved, with an answer that shows the change.
    @discardableResult
    func assertMoved(_ observation: Observation, _ stamp: String, _ what: String, showing: (String) throws -> Bool,
                     file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let moved = try list(observation, stamp: stamp)
        XCTAssertTrue(try showing(moved.answer), "\(what): \(moved.answer)", file: file, line: line)
        let new = try XCTUnwrap(moved.stamp, file: file, line: line)
        XCTAssertNotEqual(new, stamp, file: file, line: line)
        return new
    }

    func testStampsMoveWithWhatTheListingsShow() throws {
        let podman = try PodmanTestSupport.requirePodman()
        guard geteuid() == 0 else { throw XCTSkip("root's podman storage: needs root") }
        guard let busybox = TestSupport.which("busybox") else { throw XCTSkip("busybox is not installed") }
        let scratch = try Scratch()
        let tag = UUID().uuidString.prefix(8).lowercased()
        let reference = "localhost/provision-stamp-test:\(tag)"
        let name = "provision-stamp-test-\(tag)"
        func run(_ arguments: [String]) throws {
            let result = try TestSupport.runSpawned(podman, arguments)
            XCTAssertEqual(result.status, 0, "podman \(arguments.joined(separator: " ")): \(result.stderr)")
        }
        defer {
            _ = try? TestSupport.runSpawned(podman, ["rm", "-f", "-t", "0", name])
            _ = try? TestSupport.runSpawned(podman, ["rmi", "-f", reference, reference + "-again"])
            scratch.remove()
        }
        // Debian's busybox is not static: its libraries come along.
        let assemble = try TestSupport.run("/bin/sh", ["-c", """
            set -e; root=$1/rootfs; mkdir -p "$root/bin"; cp "$2" "$root/bin/busybox"
            for lib in $(ldd "$2" 2>/dev/null | grep -o '/[^ ]*'); do mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; done
            tar -C "$root" -cf "$1/rootfs.tar" .
            """, "sh", scratch.path, busybox])
        XCTAssertEqual(assemble.status, 0, assemble.stderr)

        let images = PodmanProbe.images(system), containers = PodmanProbe.containers(system)
        var imageStamp = try settled(images)
        var containerStamp = try settled(containers)
        XCTAssertFalse(try list(images, stamp: imageStamp + "x").answer.hasPrefix("@same"), "another stamp is not the same")
        XCTAssertNil(try list(images, stamp: "-").stamp, "without a memory (\"-\") no stamp is worked out")

        try run(["import", scratch.path("rootfs.tar"), reference])
        imageStamp = try assertMoved(images, imageStamp, "imported", showing: { $0.contains(reference) })
        try run(["tag", reference, reference + "-again"])
        try assertMoved(images, imageStamp, "tagged", showing: { $0.contains(reference + "-again") })

        try run(["--runtime", "runc", "--cgroup-manager=cgroupfs", "create", "--name", name, "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
                 reference, "/bin/busybox", "sleep", "300"])
        func state(_ listing: String) throws -> String? {
            try PodmanProbe.parseContainers(CommandOutput(status: 0, stdout: listing), owner: "root's").entries.first { $0.names == [name] }?.state
        }
        containerStamp = try assertMoved(containers, containerStamp, "created", showing: { try state($0) == "created" })
        try run(["--runtime", "runc", "--cgroup-manager=cgroupfs", "start", name])
        try assertMoved(containers, containerStamp, "started", showing: { try state($0) == "running" })
        // (conmon's own start-up, as it forks into the background, may still show in the first stamp.)
        containerStamp = try settled(containers)

        // The monitor and the container killed at once: nothing writes podman's database, the stamp moves all the same.
        let pids = try TestSupport.runSpawned(podman, ["inspect", "--format", "{{.State.ConmonPid}} {{.State.Pid}}", name]).stdout
            .split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard pids.count == 2, pids.allSatisfy({ $0 > 1 }) else { return XCTFail("conmon's and the container's pids: \(pids)") }
        for pid in pids { kill(pid, SIGKILL) }
        usleep(100_000)
        XCTAssertNotEqual(try list(containers, stamp: containerStamp).answer, "@same\n")
    }
}
