import XCTest
@testable import Provisioner

/// Random token soup must give a result or a `TemplateError`, never a crash or a hang.
final class TemplateRobustnessTests: XCTestCase {
    static let pieces = ["{{", "}}", "{%", "%}", "{#", "#}", "-", "+", " ", "x", "l", "d", "n", "s", "|", "(", ")", "[", "]", "{", "}",
                         "'", "\"", "\\", "if", "else", "elif", "endif", "for", "in", "endfor", "set", "=", "==", "not", "and", "or",
                         "is", "defined", "default", "join", ",", ".", ":", "1", "0", "-1", "2.5", "~", "*", "**", "/", "//", "%",
                         "<", ">", "!=", "range", "loop", "index", "\n", "raw", "endraw", "upper", "map", "select", "attribute",
                         "items", "()", "1e309", "9999999999999999999", "none", "true", "to_nice_yaml", "regex_replace", "format",
                         "lookup", "'env'", "with", "endwith", "namespace", "ns", "append", "é", "\u{0}", "r"]

    /// A small deterministic generator so a failure reproduces.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state
        }
    }

    func testRandomTemplatesNeverCrash() {
        var rng = Generator(state: 2024)
        let templar = TemplateTesting.templar("x: 1\nl: [1, 'a', [2]]\nd: {k: v, n: {m: 1}}\nn: 5\ns: str\nr: '{{ r2 }}'\nr2: '{{ r }}'")
        var outcomes = [0, 0]
        for _ in 0..<20_000 {
            let count = Int.random(in: 1...12, using: &rng)
            let body = (0..<count).map { _ in Self.pieces.randomElement(using: &rng) ?? "" }
                .joined(separator: Bool.random(using: &rng) ? " " : "")
            let shapes = ["{{ \(body) }}", "{% \(body) %}x{% endif %}", "{% for a in \(body) %}{{ a }}{% endfor %}", body,
                          "{{ x | \(body) }}", "{% set q = \(body) %}{{ q }}"]
            let text = shapes.randomElement(using: &rng) ?? body
            do {
                _ = try templar.render(text)
                _ = try templar.renderTemplate(text, name: "fuzz.j2")
                _ = try templar.isTrue(text)
                outcomes[0] += 1
            } catch is TemplateError {
                outcomes[1] += 1
            } catch {
                XCTFail("\(text): unexpected error type \(error)")
            }
        }
        XCTAssertGreaterThan(outcomes[0], 100)
        XCTAssertGreaterThan(outcomes[1], 100)
    }
}
