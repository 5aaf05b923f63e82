import Foundation
import XCTest
@testable import Provisioner

/// Issue 10 #1 and #10 with real kills, a short version of bench/kill_test.py: SIGKILL of
/// provision, of its ssh client and of the sshd session serving it, at a random moment of a
/// large copy and of a many-file apply. Every target must then be its old or its new content,
/// never anything else, and after the next run (which must succeed) every target is new and
/// no temp file is left.
final class TransportKillTests: XCTestCase {
    enum Victim: String, CaseIterable { case provision, sshClient = "ssh client", sshdSession = "sshd session" }

    struct Case {
        var files: [String: (old: [UInt8], new: [UInt8])]
    }

    var scratch: Scratch!

    override func setUpWithError() throws {
        scratch = try Scratch()
    }

    override func tearDown() {
        scratch.remove()
    }

    func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    /// A play copying controller files `src/NAME` to `data/NAME`.
    func prepare(_ files: [String: (old: [UInt8], new: [UInt8])]) throws -> String {
        for (name, content) in files {
            try FileManager.default.createDirectory(atPath: scratch.path("src"), withIntermediateDirectories: true)
            try Data(content.new).write(to: URL(fileURLWithPath: scratch.path("src/" + name)))
        }
        return try scratch.write("play.yml", """
            - hosts: all
              gather_facts: false
              tasks:
                - copy: {src: "\(scratch.path("src"))/{{ item }}", dest: "\(scratch.path("data"))/{{ item }}"}
                  loop: \(Value.list(files.keys.sorted().map(Value.string)).json)
            """)
    }

    func reset(_ files: [String: (old: [UInt8], new: [UInt8])]) throws {
        try? FileManager.default.removeItem(atPath: scratch.path("data"))
        try FileManager.default.createDirectory(atPath: scratch.path("data"), withIntermediateDirectories: true)
        for (name, content) in files { try Data(content.old).write(to: URL(fileURLWithPath: scratch.path("data/" + name))) }
    }

    /// Runs provision, killing `victim` after `delay` seconds; returns when provision has ended.
    func killedRun(_ arguments: [String], victim: Victim, after delay: Double, server: SSHTestServer?) throws {
        let binary = try TestSupport.provisionBinary().path
        let null = open("/dev/null", O_RDWR)
        defer { close(null) }
        let pid = try SSHProcess.spawn(binary, arguments, stdin: null, stdout: null, stderr: null)
        usleep(UInt32(delay * 1_000_000))
        switch victim {
        case .provision:
            kill(pid, SIGKILL)
        case .sshClient:
            for child in SSHTestServer.children(of: pid) { kill(child, SIGKILL) }
        case .sshdSession:
            server?.killSessionProcesses()
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }

    func temporaries() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: scratch.path("data")).filter { $0.contains(".provision-") }
    }

    func run(_ files: [String: (old: [UInt8], new: [UInt8])], victims: [Victim], kills: Int, inventory: String,
             server: SSHTestServer?) throws {
        let play = try prepare(files)
        try reset(files)
        // How long a whole run takes: kills land anywhere in it.
        let timing = Date()
        let first = try TestSupport.run(try TestSupport.provisionBinary().path, ["apply", play, "-i", inventory])
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        let duration = max(Date().timeIntervalSince(timing), 0.2)
        for victim in victims {
            for _ in 0..<kills {
                try reset(files)
                let delay = Double.random(in: 0.05...duration)
                try killedRun(["apply", play, "-i", inventory], victim: victim, after: delay, server: server)
                for (name, content) in files {
                    let now = try [UInt8](Data(contentsOf: URL(fileURLWithPath: scratch.path("data/" + name))))
                    XCTAssertTrue(now == content.old || now == content.new,
                                  "\(victim.rawValue) killed after \(delay) s: \(name) is neither old nor new (\(now.count) bytes)")
                }
                let next = try TestSupport.run(try TestSupport.provisionBinary().path, ["apply", play, "-i", inventory])
                XCTAssertEqual(next.status, 0, "after killing the \(victim.rawValue): \(next.stdout) \(next.stderr)")
                for (name, content) in files {
                    XCTAssertEqual(try [UInt8](Data(contentsOf: URL(fileURLWithPath: scratch.path("data/" + name)))), content.new, name)
                }
                XCTAssertEqual(try temporaries(), [], "temp files after killing the \(victim.rawValue) and running again")
            }
        }
    }

    var largeFile: [String: (old: [UInt8], new: [UInt8])] { ["big": (bytes(3_000_000, seed: 1), bytes(4_000_000, seed: 2))] }

    var manyFiles: [String: (old: [UInt8], new: [UInt8])] {
        Dictionary(uniqueKeysWithValues: (0..<40).map { ("f\($0)", (bytes(3000, seed: UInt64($0)), bytes(5000, seed: UInt64($0 + 100)))) })
    }

    func testKillsDuringALargeCopyOverSSH() throws {
        let server = try SSHTestServer.start()
        let inventory = try scratch.write("hosts.yml", server.inventory(["h"]))
        try run(largeFile, victims: Victim.allCases, kills: 1, inventory: inventory, server: server)
    }

    func testKillsDuringAManyFileApplyOverSSH() throws {
        let server = try SSHTestServer.start()
        let inventory = try scratch.write("hosts.yml", server.inventory(["h"]))
        try run(manyFiles, victims: Victim.allCases, kills: 1, inventory: inventory, server: server)
    }

    func testKillsOfALocalApply() throws {
        let inventory = try scratch.write("hosts.ini", "h ansible_connection=local\n")
        try run(largeFile, victims: [.provision], kills: 2, inventory: inventory, server: nil)
        try run(manyFiles, victims: [.provision], kills: 2, inventory: inventory, server: nil)
    }
}
