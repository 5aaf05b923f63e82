import Foundation
import XCTest
@testable import Provisioner

/// `image` with `archive` when the host is the controller (a bundle's install.sh): the real podman
/// loads the archive where it is, which stays as it was (not read into memory, not copied).
final class ImageLocalTests: XCTestCase {
    func testAnArchiveOnTheControllerIsLoadedInPlaceAndKept() throws {
        let podman = try PodmanTestSupport.requirePodman()
        guard geteuid() == 0 else { throw XCTSkip("loads into root's podman storage: needs root") }
        let scratch = try Scratch()
        let reference = "localhost/provision-inplace-test:\(UUID().uuidString.prefix(8).lowercased())"
        defer {
            _ = try? PodmanTestSupport.run(podman, ["rmi", "-f", reference], environment: [:])
            scratch.remove()
        }
        try scratch.write("rootfs/hello", "in place\n")
        try FileManager.default.createDirectory(atPath: scratch.path("files"), withIntermediateDirectories: true)
        _ = try TestSupport.run("/bin/tar", ["-C", scratch.path("rootfs"), "-cf", scratch.path("rootfs.tar"), "."])
        _ = try PodmanTestSupport.run(podman, ["import", scratch.path("rootfs.tar"), reference], environment: [:])
        _ = try PodmanTestSupport.run(podman, ["save", "--quiet", "-o", scratch.path("files/app.tar"), reference], environment: [:])
        _ = try PodmanTestSupport.run(podman, ["rmi", reference], environment: [:])
        let archive = try XCTUnwrap(FileManager.default.contents(atPath: scratch.path("files/app.tar")))

        try scratch.write("hosts.ini", "target ansible_connection=local\n")
        try scratch.write("play.yml", """
            - hosts: all
              gather_facts: false
              tasks:
                - image: {name: "\(reference)", archive: app.tar}
            """)
        let first = try scratch.provision(["apply", "play.yml", "-i", "hosts.ini", "--json"])
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertEqual(first.recap("changed"), 1, first.stdout)
        XCTAssertNoThrow(try PodmanTestSupport.run(podman, ["image", "exists", reference], environment: [:]))
        XCTAssertEqual(FileManager.default.contents(atPath: scratch.path("files/app.tar")), archive, "the archive is kept as it was")
        let copies = (try? FileManager.default.contentsOfDirectory(atPath: "/var/tmp"))?.filter { $0.hasPrefix(".provision-image-") } ?? []
        XCTAssertEqual(copies, [], "no copy was made")
        let second = try scratch.provision(["apply", "play.yml", "-i", "hosts.ini", "--json"])
        XCTAssertEqual(second.recap("changed"), 0, second.stdout)
    }
}
