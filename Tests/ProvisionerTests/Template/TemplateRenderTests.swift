import XCTest
@testable import Provisioner

/// Rendering playbook strings: native results, lazy variables, undefined values, printing, errors.
final class TemplateRenderTests: XCTestCase {
    func testSingleExpressionKeepsItsType() {
        assertRenders("{{ l }}", ["b", "a", "C", "a"])
        assertRenders("{{ n }}", 42)
        assertRenders("{{ d.c }}", ["x": [1, 2]])
        assertRenders("{{ z }}", nil)
        assertRenders("{{ 1, 2 }}", [1, 2])
        assertRenders(" {{ n }}", " 42")
        assertRenders("x{{ 1 }}", "x1")
        assertRenders("{{ 1 }}{{ 2 }}", "12")
        assertRenders("{{ l }}\n", ["b", "a", "C", "a"])
        assertRenders("{{ s }}\n", "Hello World\n")
        assertRenders("plain text", "plain text")
    }

    func testRenderValueRecursesIntoContainers() throws {
        let templar = TemplateTesting.templar(TemplateTesting.sample)
        let input: Value = ["path": "{{ path | dirname }}", "items": ["{{ n }}", "x{{ n }}", 7], "{{ s | lower }}": true]
        XCTAssertEqual(try templar.render(input), ["path": "/etc/nginx/conf.d", "items": [42, "x42", 7], "hello world": true])
    }

    func testLazyRecursiveVariables() {
        let vars = """
        R: "{{ peer_root | default('/tmp/x') }}"
        ETC: "{{ R }}/etc"
        L: ["{{ R }}", "{{ n * 2 }}"]
        D: {root: "{{ R }}", size: "{{ n }}"}
        n: 21
        """
        assertRenders("{{ R }}/etc", "/tmp/x/etc", vars: vars)
        assertRenders("{{ ETC }}", "/tmp/x/etc", vars: vars)
        assertRenders("{{ L }}", ["/tmp/x", 42], vars: vars)
        assertRenders("{{ D.size + 1 }}", 22, vars: vars)
        assertRenders("{{ D }}", ["root": "/tmp/x", "size": 21], vars: vars)
    }

    func testSelfReferenceIsDetected() {
        assertRenderFails("{{ R }}", "recursive loop detected in template string: R", vars: "R: '{{ R }}'")
        assertRenderFails("{{ a }}", "recursive loop detected in template string: a", vars: "a: '{{ b }}'\nb: '{{ a }}'")
    }

    func testRenderedVariablesAreCached() throws {
        let templar = TemplateTesting.templar("R: \"{{ [1, 2] | map('string') | list }}\"")
        for _ in 0..<3 { XCTAssertEqual(try templar.render("{{ R }}"), ["1", "2"]) }
        XCTAssertEqual(templar.context.cachedCount, 1)
    }

    func testUndefinedVariableNamesTheVariable() throws {
        let error = try XCTUnwrap(renderError("path: {{ missing }}"))
        XCTAssertEqual(error.message, "'missing' is undefined")
        XCTAssertEqual(error.undefinedVariable, "missing")
        XCTAssertEqual(error.line, 1)
        XCTAssertEqual(error.column, 10)
        XCTAssertEqual(error.description, "'missing' is undefined (line 1, column 10)")
    }

    func testUndefinedInsideAnotherVariable() throws {
        let error = try XCTUnwrap(renderError("{{ R }}/etc", vars: "R: '{{ peer }}'"))
        XCTAssertEqual(error.undefinedVariable, "peer")
        XCTAssertTrue(error.message.hasPrefix("'peer' is undefined"), error.message)
        XCTAssertTrue(error.message.contains("'R'"), error.message)
    }

    func testMissingAttributesAndItems() {
        assertRenderFails("{{ d.nope }}", "'dict object' has no attribute 'nope'")
        assertRenderFails("{{ d['nope'] }}", "'dict object' has no attribute 'nope'")
        assertRenderFails("{{ l[9] }}", "list object has no element 9")
        assertRenderFails("{{ s.nope }}", "'str object' has no attribute 'nope'")
        assertRenderFails("{{ z.nope }}", "'None' has no attribute 'nope'")
        assertRenderFails("{{ missing.attr }}", "'missing' is undefined")
    }

    func testDefaultAndDefinedChains() {
        assertRenders("{{ missing | default('a') }}", "a")
        assertRenders("{{ missing | d('short') }}", "short")
        assertRenders("{{ missing | default }}", "")
        assertRenders("{{ e | default('empty') }}", "")
        assertRenders("{{ e | default('empty', true) }}", "empty")
        assertRenders("{{ z | default('none', boolean=true) }}", "none")
        assertRenders("{{ d.nope | default(1) }}", 1)
        assertRenders("{{ missing.x.y | default(5) }}", 5)
        assertRenders("{{ missing | default(other) | default('c') }}", "c")
        assertRenders("{{ missing is defined }}", false)
        assertRenders("{{ missing is undefined }}", true)
        assertRenders("{{ missing is not defined }}", true)
        assertRenders("{{ d.a is defined }}", true)
        assertRenders("{{ d.nope is defined }}", false)
        assertRenders("{{ missing.x is defined }}", false)
        assertRenders("{{ [] | first | default('none') }}", "none")
        assertRenders("{{ missing | mandatory('need it') if false else 1 }}", 1)
        assertRenderFails("{{ missing | lower }}", "'missing' is undefined")
        assertRenderFails("{{ missing == 1 }}", "'missing' is undefined")
        assertRenderFails("{{ missing | mandatory }}", "Mandatory variable 'missing' not defined.")
    }

    func testOmitPlaceholder() throws {
        let templar = TemplateTesting.templar(TemplateTesting.sample)
        XCTAssertEqual(try templar.render(["mode": "{{ missing | default(omit) }}", "n": "{{ n | default(omit) }}"]),
                       ["mode": .string(Templar.omit), "n": 42])
    }

    func testPythonStringification() {
        assertRenders("{{ true }} {{ false }} {{ none }}", "True False None")
        assertRenders("x{{ [1, 'a', none, true, 1.0, {'k': 'v'}] }}", "x[1, 'a', None, True, 1.0, {'k': 'v'}]")
        assertRenders("x{{ {'q': \"it's\", 'e': ''} }}", "x{'q': \"it's\", 'e': ''}")
        assertRenders("{{ 1e100 }}|{{ 1e16 }}|{{ 1e15 }}|{{ 0.1 + 0.2 }}|{{ 1e-5 }}|{{ 0.0001 }}|{{ -0.0 }}",
                      "1e+100|1e+16|1000000000000000.0|0.30000000000000004|1e-05|0.0001|-0.0")
        assertRenders("{{ 3 / 2 }} {{ 4 / 2 }}", "1.5 2.0")
        assertRenders("{{ 'tab\\there' }}", "tab\\there")
        assertRenders("x{{ ['a\\nb'] }}", "x['a\\\\nb']")
        XCTAssertEqual(Value.list(["a\nb", "\u{7}"]).pythonText, #"['a\nb', '\x07']"#)
        XCTAssertEqual(Value.float(123456789012345680).pythonText, "1.2345678901234568e+17")
        XCTAssertEqual(Value.float(.infinity).pythonText, "inf")
    }

    func testBackslashesInPlaybookStringsAreLiteral() throws {
        // Ansible's escape_backslashes: YAML already processed the escapes once.
        assertRenders(#"{{ 'a.b' | regex_replace('\.', '\\') }}"#, #"a\b"#)
        let templar = TemplateTesting.templar("p: 'C:\\new'")
        XCTAssertEqual(try templar.render(#"{{ p ~ '\n' }}"#), #"C:\new\n"#)
        XCTAssertEqual(try templar.renderTemplate(#"{{ 'a\tb' }}"#, name: "t.j2"), "a\tb")
    }

    func testInlineIfWithoutElse() {
        assertRenders("{% for u in users %}{{ u.name }}{{ ',' if not loop.last }}{% endfor %}", "bob,al,Cy")
        assertRenders("{{ ('x' if false) is defined }}", false)
    }

    func testContainsTemplate() {
        XCTAssertTrue(Templar.containsTemplate("a {{ b }}"))
        XCTAssertTrue(Templar.containsTemplate("{% if a %}{% endif %}"))
        XCTAssertTrue(Templar.containsTemplate("{# note #}"))
        XCTAssertFalse(Templar.containsTemplate("plain { text } %}"))
        XCTAssertFalse(Templar.containsTemplate(""))
        XCTAssertFalse(Templar.containsTemplate("{"))
    }

    func testUnknownFilterSuggestsTheNearestName() throws {
        let error = try XCTUnwrap(renderError("{{ s | uper }}"))
        XCTAssertEqual(error.message, "no filter named 'uper' (did you mean 'upper'?)")
        XCTAssertEqual(error.column, 8)
        assertRenderFails("{{ s is defind }}", "no test named 'defind' (did you mean 'defined'?)")
        assertRenderFails("{{ lookup('evn', 'HOME') }}", "lookup plugin 'evn' not found (did you mean 'env'?)")
        assertRenders("{{ s | ansible.builtin.upper }}", "HELLO WORLD")
    }

    func testSyntaxErrorsHavePositions() throws {
        let unterminated = try XCTUnwrap(renderError("line one\nsay {{ s "))
        XCTAssertTrue(unterminated.message.contains("expected '}}'"), unterminated.message)
        XCTAssertEqual(unterminated.line, 2)
        XCTAssertEqual(unterminated.column, 5)

        let bad = try XCTUnwrap(renderError("{{ a b }}"))
        XCTAssertEqual(bad.message, "expected '}}' (end of print statement), got 'b'")
        XCTAssertEqual(bad.column, 6)

        assertRenderFails("{{ (1 }}", "unexpected '}', expected ')'")
        assertRenderFails("{{ 'open }}", "unterminated string")
        assertRenderFails("{{ 1 + }}", "unexpected 'end of print statement'")
        assertRenderFails("{{ a ! b }}", "unexpected char '!'")
        assertRenderFails("{% if x %}", "Unexpected end of template. Jinja was looking for the following tags: 'elif' or 'else' or 'endif'.")
        assertRenderFails("{% endfor %}", "Encountered unknown tag 'endfor'.")
        assertRenderFails("{% include 'x' %}", "the 'include' tag is not supported")
        assertRenderFails("{# open", "Missing end of comment tag")
    }

    func testErrorsNeverCrashOnHostileInput() {
        let deep = String(repeating: "(", count: 500) + "1" + String(repeating: ")", count: 500)
        assertRenderFails("{{ \(deep) }}", "nested too deeply")
        assertRenderFails("{{ " + String(repeating: "[", count: 300) + " }}", "expected ']'")
        assertRenderFails("{{ range(10000000) | list }}", "range too big")
        assertRenderFails("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "iterations")
        assertRenderFails("{{ 'a' * 1000000000 }}", "too large")
        assertRenderFails("{{ 9223372036854775807 + 1 }}", "integer overflow")
        assertRenderFails("{{ 1 / 0 }}", "division by zero")
        assertRenderFails("{{ 1 // 0 }}", "integer division or modulo by zero")
        assertRenderFails("{{ 'a' + 1 }}", "can only concatenate str (not \"int\") to str")
        assertRenderFails("{{ 1 < 'a' }}", "'<' not supported between instances of 'int' and 'str'")
        assertRenderFails("{{ n() }}", "'int' object is not callable")
        assertRenderFails("{{ 99999999999999999999 }}", "integer literal too large")
    }

    func testEvaluateBareExpressions() {
        assertEvaluates("l", ["b", "a", "C", "a"])
        assertEvaluates("users | map(attribute='name') | list", ["bob", "al", "Cy"])
        assertEvaluates("range(3) | list", [0, 1, 2])
        assertEvaluates("{{ n + 1 }}", 43)
        assertEvaluates("d.missing | default('m')", "m")
    }

    func testConditions() throws {
        let templar = TemplateTesting.templar(TemplateTesting.sample + "\nyes_word: 'yes'\nfalse_word: 'False'\nver: '12.4'")
        let expectations: [(String, Bool)] = [
            ("n > 40", true), ("n == 42 and s == 'Hello World'", true), ("not b", false), ("z is none", true),
            ("x is defined", false), ("x is not defined", true), ("'a' in l", true), ("'q' not in l", true),
            ("d.c.x | length == 2", true), ("e", false), ("yes_word | bool", true), ("false_word | bool", false),
            ("false_word", true), ("{{ n > 40 }}", true), ("{{ b }}", true), ("{{ n }} == 42", true),
            ("ver is version('12', '>=')", true), ("ver is version('12.10', '<')", true),
            ("users | selectattr('enabled', 'defined') | list | length == 2", true), ("s is match('Hel')", true),
            ("s.startswith('He')", true), ("n is divisibleby 7", true), ("not 'a' in l", false), ("b or x and x.y", true),
        ]
        for (condition, expected) in expectations {
            XCTAssertEqual(try templar.isTrue(condition), expected, condition)
        }
        XCTAssertThrowsError(try templar.isTrue("not_there == 1")) { error in
            XCTAssertEqual((error as? TemplateError)?.undefinedVariable, "not_there")
        }
    }

    func testTemplateErrorDescription() {
        var error = TemplateError("boom")
        XCTAssertEqual(error.description, "boom")
        error.line = 3
        error.column = 4
        XCTAssertEqual(error.description, "boom (line 3, column 4)")
        error.template = "motd.j2"
        XCTAssertEqual(error.description, "motd.j2:3:4: boom")
    }
}
