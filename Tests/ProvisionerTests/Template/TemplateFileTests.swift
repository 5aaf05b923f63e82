import XCTest
@testable import Provisioner

/// Template files (the `template` module): statements, comments, whitespace control, and
/// Ansible's defaults trim_blocks=True, lstrip_blocks=False, trailing newlines kept.
final class TemplateFileTests: XCTestCase {
    func file(_ text: String, vars yaml: String = TemplateTesting.sample, file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            return try TemplateTesting.templar(yaml).renderTemplate(text, name: "test.j2")
        } catch {
            XCTFail("unexpected error: \(error)", file: file, line: line)
            return ""
        }
    }

    func testIfElifElse() {
        XCTAssertEqual(file("{% if n > 50 %}\nbig\n{% elif n > 40 %}\nmedium\n{% else %}\nsmall\n{% endif %}\n"), "medium\n")
        XCTAssertEqual(file("{% if z %}a{% else %}b{% endif %}"), "b")
        XCTAssertEqual(file("{% if missing is defined %}a{% endif %}."), ".")
    }

    func testForLoopVariables() {
        let text = """
        {% for u in users %}
        {{ loop.index }}/{{ loop.length }} {{ u.name }}{% if loop.first %} (first){% endif %}{% if loop.last %} (last){% endif %}

        {% endfor %}
        """
        XCTAssertEqual(file(text), "1/3 bob (first)\n2/3 al\n3/3 Cy (last)\n")
        XCTAssertEqual(file("{% for x in l %}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }},{% endfor %}"), "043,132,221,310,")
        XCTAssertEqual(file("{% for x in nums if x > 1 %}{{ x }}{{ ',' if not loop.last }}{% endfor %}"), "3,2,10")
        XCTAssertEqual(file("{% for x in [] %}a{% else %}empty{% endfor %}"), "empty")
        XCTAssertEqual(file("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}"), "b=2;a=1;c={'x': [1, 2]};")
        XCTAssertEqual(file("{% for k in d %}{{ k }}{% endfor %}"), "bac")
        XCTAssertEqual(file("{% for i in range(4) %}{{ loop.cycle('a', 'b') }}{% endfor %}"), "abab")
        XCTAssertEqual(file("{% for x in l %}{{ loop.previtem | default('-') }}{% endfor %}"), "-baC")
        XCTAssertEqual(file("{% for a in [1, 2] %}{% for b in [3] %}{{ a }}{{ b }}{{ loop.index }} {% endfor %}{% endfor %}"), "131 231 ")
    }

    func testSetAndScoping() {
        XCTAssertEqual(file("{% set x = n * 2 %}{{ x }}"), "84")
        XCTAssertEqual(file("{% set a, b = 1, 2 %}{{ a + b }}"), "3")
        XCTAssertEqual(file("{% set x %}block {{ n }}{% endset %}[{{ x }}]"), "[block 42]")
        // A `set` inside a loop body does not leak out; one inside `if` does.
        XCTAssertEqual(file("{% set c = 0 %}{% for x in l %}{% set c = c + 1 %}{% endfor %}{{ c }}"), "0")
        XCTAssertEqual(file("{% if true %}{% set c = 5 %}{% endif %}{{ c }}"), "5")
        XCTAssertEqual(file("{% set ns = namespace(c=0) %}{% for x in l %}{% set ns.c = ns.c + 1 %}{% endfor %}{{ ns.c }}"), "4")
        XCTAssertEqual(file("{% with q = n %}{{ q }}{% endwith %}{{ q | default('gone') }}"), "42gone")
    }

    func testCommentsAndRaw() {
        XCTAssertEqual(file("a {# comment #} b"), "a  b")
        XCTAssertEqual(file("a\n{# comment #}\nb\n"), "a\nb\n")
        XCTAssertEqual(file("{% raw %}{{ not rendered }}{% endraw %}"), "{{ not rendered }}")
        XCTAssertEqual(file("{% raw -%}  {{ x }}  {%- endraw %}|"), "{{ x }}|")
    }

    func testTrimBlocksAndWhitespaceControl() {
        // trim_blocks: the newline after a block tag goes; lstrip_blocks is off, so indentation stays.
        XCTAssertEqual(file("{% if true %}\nline\n{% endif %}\nend\n"), "line\nend\n")
        XCTAssertEqual(file("  {% for x in [1, 2] %}\n  - {{ x }}\n  {% endfor %}\n"), "    - 1\n    - 2\n  \n")
        XCTAssertEqual(file("a {%- if true %} b {% endif -%} c"), "a b c")
        XCTAssertEqual(file("x  {{- ' y ' -}}  z"), "x y z")
        XCTAssertEqual(file("{% for x in l -%}\n{{ x }}\n{%- endfor %}\n"), "baCa\n")
        XCTAssertEqual(file("{% for x in [1] +%}\n{{ x }}\n{% endfor +%}\nz"), "\n1\n\nz")
        XCTAssertEqual(file("{{ n }}\n{{ s }}"), "42\nHello World")
    }

    func testTrailingNewlinesAndLineEndings() {
        XCTAssertEqual(file("text\n"), "text\n")
        XCTAssertEqual(file("{{ n }}\n\n\n"), "42\n\n\n")
        XCTAssertEqual(file("no newline"), "no newline")
        XCTAssertEqual(file("a\r\nb{{ n }}\r\n"), "a\nb42\n")
    }

    func testBackslashesAreJinjaEscapesInFiles() {
        XCTAssertEqual(file("{{ 'a\\tb' }}|{{ 'x\\ny' }}"), "a\tb|x\ny")
        XCTAssertEqual(file("{{ path | regex_replace('^/etc/(\\\\w+).*$', '\\\\1') }}"), "nginx")
    }

    func testErrorsNameTheFileAndLine() throws {
        let templar = TemplateTesting.templar(TemplateTesting.sample)
        XCTAssertThrowsError(try templar.renderTemplate("line 1\nline 2 {{ nope }}\n", name: "motd.j2")) { error in
            let e = error as? TemplateError
            XCTAssertEqual(e?.template, "motd.j2")
            XCTAssertEqual(e?.line, 2)
            XCTAssertEqual(e?.column, 11)
            XCTAssertEqual(e?.undefinedVariable, "nope")
            XCTAssertEqual(e?.description, "motd.j2:2:11: 'nope' is undefined")
        }
        XCTAssertThrowsError(try templar.renderTemplate("{% for x in l %}\n{{ x }}\n", name: "t.j2")) { error in
            XCTAssertEqual((error as? TemplateError)?.description,
                           "t.j2:2:8: Unexpected end of template. Jinja was looking for the following tags: 'endfor' or 'else'. The innermost block that needs to be closed is 'for'.")
        }
        XCTAssertThrowsError(try templar.renderTemplate("{% if true %}{% endfor %}", name: "t.j2")) { error in
            XCTAssertTrue((error as? TemplateError)?.message.hasPrefix("Encountered unknown tag 'endfor'.") == true)
        }
        XCTAssertThrowsError(try templar.renderTemplate("{% iff x %}{% endif %}", name: "t.j2")) { error in
            XCTAssertEqual((error as? TemplateError)?.message, "Encountered unknown tag 'iff'. (did you mean 'if'?)")
        }
    }

    func testListAppendIdiom() {
        XCTAssertEqual(file("{% set seen = [] %}{% for x in l %}{% if x not in seen %}{% set _ = seen.append(x) %}{% endif %}{% endfor %}{{ seen }}"),
                       "['b', 'a', 'C']")
    }

    func testFileLookup() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tpl-lookup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("files"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "key material\n\n".write(to: folder.appendingPathComponent("files/id.pub"), atomically: true, encoding: .utf8)
        let templar = Templar(variables: ValueDict(), searchPaths: [folder.path])
        XCTAssertEqual(try templar.render("{{ lookup('file', 'id.pub') }}"), "key material")
        XCTAssertEqual(try templar.render("{{ lookup('file', '\(folder.path)/files/id.pub') | length }}"), 12)
        XCTAssertThrowsError(try templar.render("{{ lookup('file', 'absent.txt') }}")) { error in
            XCTAssertEqual((error as? TemplateError)?.message, "could not locate file in lookup: absent.txt")
        }
        XCTAssertEqual(try templar.render("{{ lookup('file', 'absent.txt', errors='ignore') }}"), nil)
    }

    func testEnvLookup() throws {
        let templar = Templar(variables: ValueDict())
        XCTAssertEqual(try templar.render("{{ lookup('env', 'PATH') | length > 0 }}"), true)
        XCTAssertEqual(try templar.render("{{ lookup('env', 'PROVISION_SURELY_UNSET_VARIABLE') }}"), "")
        XCTAssertEqual(try templar.render("{{ lookup('env', 'PROVISION_SURELY_UNSET_VARIABLE', default='d') }}"), "d")
    }
}
