import XCTest
@testable import Provisioner

/// The data model of issue 10 #2: `.unsafe` values are never rendered, and are otherwise the
/// plain value they hold (equal, same hash, same text and JSON), as Ansible 2.19's untrusted data.
final class TemplateUntrustedTests: XCTestCase {
    let injected = "{{ 'INJ' ~ 'ECTED' }}{% if true %}!{% endif %}"

    func testAnUnsafeValueEqualsAndHashesAsItsPayload() {
        let marked = Value.untrusted(.string("x"))
        XCTAssertTrue(marked.isUnsafe)
        XCTAssertEqual(marked, "x")
        XCTAssertEqual(Set<Value>([marked, "x"]).count, 1)
        XCTAssertEqual(Value.untrusted(["a": [1, "b"]]), ["a": [1, "b"]])
        XCTAssertEqual(marked.string, "x")
        XCTAssertEqual(marked.typeName, "str")
        XCTAssertEqual(Value.untrusted(["k": "v"]).json, #"{"k": "v"}"#)
        XCTAssertEqual(Value.untrusted(["k", 1]).pythonText, "['k', 1]")
        // Marks never nest: the payload is plain.
        XCTAssertFalse(Value.untrusted(.list([.untrusted("a")])).peeled.hasUnsafeMarks)
        XCTAssertEqual(Value.untrusted(.int(3)), .int(3))
    }

    func testTheTemplarNeverRendersUnsafeValues() throws {
        var variables = ValueDict()
        variables["host"] = .untrusted(.string(injected))
        variables["result"] = .untrusted(["stdout": .string(injected), "lines": [.string(injected)]])
        variables["mixed"] = ["keep": .untrusted(.string(injected)), "render": "{{ 6 * 7 }}"]
        variables["lazy"] = "{{ host }}-{{ result.stdout }}"
        let templar = Templar(variables: variables)
        XCTAssertEqual(try templar.render("{{ host }}"), .string(injected))
        XCTAssertEqual(try templar.render("{{ result.lines[0] }}|{{ result.stdout | trim }}"), .string(injected + "|" + injected))
        XCTAssertEqual(try templar.render("{{ mixed }}"), ["keep": .string(injected), "render": 42])
        XCTAssertEqual(try templar.render("{{ lazy }}"), .string(injected + "-" + injected))
        XCTAssertEqual(try templar.render("{{ host is string }} {{ host | length }}"), .string("True \(injected.count)"))
        XCTAssertEqual(try templar.render("{{ [host] | to_json }}"), .string(Value.list([.string(injected)]).json))
        // A value given to render directly (a task's `!unsafe` argument) is not rendered either, and comes back plain.
        let rendered = try templar.render(.list([.untrusted(.string(injected)), "{{ 1 + 1 }}"]))
        XCTAssertEqual(rendered, [.string(injected), 2])
        XCTAssertFalse(rendered.hasUnsafeMarks)
    }

    func testConditionsMadeFromUntrustedDataAreNotEvaluated() throws {
        var variables = ValueDict()
        variables["host"] = .untrusted("1 == 1")
        variables["derived"] = "{{ host }}"
        variables["trusted"] = "1 == 1"
        let templar = Templar(variables: variables)
        XCTAssertTrue(try templar.isTrue("{{ trusted }}"))
        XCTAssertTrue(try templar.isTrue("host == '1 == 1'"))
        for condition in ["{{ host }}", "{{ derived }}", "{{ derived }}", "{{ lookup('env', 'HOME') }} == 1"] {
            XCTAssertThrowsError(try templar.isTrue(condition), condition) { error in
                XCTAssertTrue("\(error)".contains("untrusted"), "\(error)")
            }
        }
    }

    func testUnsafeTagsMarkScalarsCollectionsAndAliases() throws {
        let yaml = """
            a: !unsafe "{{ x }}"
            b: !unsafe [ "{{ x }}", {c: "{{ y }}"} ]
            d: &anchor !unsafe "{% raw %}"
            e: *anchor
            f: "{{ x }}"
            """
        guard case .dict(let vars)? = try YAMLStream(yaml, file: "vars.yml").documents.first.map(Value.init) else {
            return XCTFail("not a mapping")
        }
        for key in ["a", "b", "d", "e"] { XCTAssertTrue(vars[key]?.isUnsafe == true, key) }
        XCTAssertEqual(vars["f"]?.isUnsafe, false)
        XCTAssertEqual(vars["b"], ["{{ x }}", ["c": "{{ y }}"]])
        var templateVars = vars
        templateVars["x"] = "X"
        XCTAssertEqual(try Templar(variables: templateVars).render("{{ a }}{{ b[1].c }}{{ e }}{{ f }}"), "{{ x }}{{ y }}{% raw %}X")
    }
}
