import Foundation
import XCTest

/// Issue 10 #9: bytes that are not UTF-8 are copied exactly (local and ssh), and text that must be
/// UTF-8 (a template, `lookup('file')`) is refused naming the file, never decoded to U+FFFD.
/// On main at 0e43e5c the template and the lookup wrote U+FFFD (EF BF BD) where the bytes were;
/// copying bytes was already exact there (that test guards it).
final class ModuleNonUTF8Tests: XCTestCase {
    /// Every byte value, then sequences that are not UTF-8: a lone continuation, a truncated
    /// sequence, an overlong encoding, a surrogate.
    static let bytes = Data((0...255).map { UInt8($0) } + [0x80, 0x0A, 0xE2, 0x82, 0x0A, 0xC0, 0xAF, 0xED, 0xA0, 0x80, 0x0A])

    func testNonUTF8BytesAreCopiedExactlyLocallyAndOverSSH() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("files/blob.bin", "")
        try Self.bytes.write(to: scratch.root.appendingPathComponent("files/blob.bin"))
        try scratch.write("play.yml", """
            - hosts: all
              gather_facts: false
              tasks:
                - copy: {src: blob.bin, dest: "{{ out }}", mode: "0600"}
            """)
        try HardeningTarget.each(scratch) { label, inventory in
            let out = scratch.path("copied-\(label).bin")
            for (run, changed) in [(1, 1), (2, 0)] {
                let result = try scratch.provision(["apply", "play.yml", "-i", inventory, "-e", "out=\(out)", "--diff", "--json"])
                XCTAssertEqual(result.status, 0, "[\(label) run \(run)] \(result.stdout + result.stderr)")
                XCTAssertEqual(result.recap("changed"), changed, "[\(label) run \(run)] \(result.stdout)")
                XCTAssertEqual(FileManager.default.contents(atPath: out), Self.bytes, "[\(label) run \(run)] the copy differs")
            }
        }
    }

    func testTextThatIsNotUTF8IsRefusedNamingTheFile() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try scratch.write("templates/bad.j2", "")
        try scratch.write("files/bad.txt", "")
        try (Data("ok\nx={{ 1 }}".utf8) + [0xFF, 0x0A]).write(to: scratch.root.appendingPathComponent("templates/bad.j2"))
        try Data([0x61, 0xC3, 0x28, 0x0A]).write(to: scratch.root.appendingPathComponent("files/bad.txt"))
        try scratch.write("template.yml", """
            - hosts: all
              gather_facts: false
              tasks:
                - template: {src: bad.j2, dest: "{{ playbook_dir }}/rendered"}
            """)
        try scratch.write("lookup.yml", """
            - hosts: all
              gather_facts: false
              tasks:
                - copy: {dest: "{{ playbook_dir }}/looked-up", content: "{{ lookup('file', 'bad.txt') }}"}
            """)
        let inventory = try HardeningTarget.inventory(in: scratch, server: nil)
        let template = try scratch.provision(["apply", "template.yml", "-i", inventory])
        XCTAssertEqual(template.status, 1, template.stdout + template.stderr)
        XCTAssertTrue(template.stderr.contains("template.yml:4:") && template.stderr.contains("bad.j2: byte 0xFF at line 2, column 10 is not UTF-8"),
                      template.stderr)
        let lookup = try scratch.provision(["apply", "lookup.yml", "-i", inventory])
        XCTAssertEqual(lookup.status, 1, lookup.stdout + lookup.stderr)
        XCTAssertTrue(lookup.stderr.contains("lookup.yml:4:") && lookup.stderr.contains("bad.txt: byte 0xC3 at line 1, column 2 is not UTF-8"),
                      lookup.stderr)
        XCTAssertNil(scratch.read("rendered"))
        XCTAssertNil(scratch.read("looked-up"))
    }
}
