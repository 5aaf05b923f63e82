import XCTest
@testable import Provisioner

/// `to_nice_yaml`, `to_yaml`, `to_json` and `to_nice_json` byte for byte as Ansible writes them
/// (the expected texts come from Ansible's dumper, which is PyYAML over libyaml).
final class TemplateOutputFormatTests: XCTestCase {
    static let compose = """
    services:
      web:
        image: "nginx:1.25"
        ports: ["80:80", "443:443"]
        env: {A: "yes", B: "1.0", C: ""}
        command: [sh, -c, "echo 'hi' && sleep 1"]
        healthcheck: {test: [CMD, curl, -f, "http://localhost"], retries: 3}
    volumes: {}
    list_of_maps: [{name: a, opts: [1, 2]}, {name: b, opts: []}]
    text: "first line\\nsecond line\\n"
    enabled: true
    ratio: 0.5
    nothing: null
    long: "lorem ipsum lorem ipsum lorem ipsum lorem ipsum lorem ipsum lorem ipsum lorem ipsum lorem ipsum lorem ipsum lorem ipsum "
    """

    func rendered(_ template: String) throws -> String {
        try TemplateTesting.templar("data:\n" + Self.compose.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            .renderString(template)
    }

    func testToNiceYAMLOfNestedData() throws {
        XCTAssertEqual(try rendered("{{ data | to_nice_yaml }}"), """
        enabled: true
        list_of_maps:
        -   name: a
            opts:
            - 1
            - 2
        -   name: b
            opts: []
        long: 'lorem ipsum lorem ipsum lorem ipsum lorem ipsum lorem ipsum lorem ipsum lorem
            ipsum lorem ipsum lorem ipsum lorem ipsum '
        nothing: null
        ratio: 0.5
        services:
            web:
                command:
                - sh
                - -c
                - echo 'hi' && sleep 1
                env:
                    A: 'yes'
                    B: '1.0'
                    C: ''
                healthcheck:
                    retries: 3
                    test:
                    - CMD
                    - curl
                    - -f
                    - http://localhost
                image: nginx:1.25
                ports:
                - 80:80
                - 443:443
        text: 'first line

            second line

            '
        volumes: {}

        """)
    }

    func testToNiceYAMLWithIndentTwo() throws {
        let text = try rendered("{{ data.list_of_maps | to_nice_yaml(indent=2) }}")
        XCTAssertEqual(text, "- name: a\n  opts:\n  - 1\n  - 2\n- name: b\n  opts: []\n")
    }

    func testToYAMLUsesFlowStyleForLeafCollections() throws {
        XCTAssertEqual(try rendered("{{ data.services | to_yaml }}"), """
        web:
          command: [sh, -c, echo 'hi' && sleep 1]
          env: {A: 'yes', B: '1.0', C: ''}
          healthcheck:
            retries: 3
            test: [CMD, curl, -f, 'http://localhost']
          image: nginx:1.25
          ports: ['80:80', '443:443']

        """)
    }

    func testYAMLScalarQuoting() {
        let cases: [(Value, String)] = [
            ("plain", "plain\n"), ("yes", "'yes'\n"), ("123", "'123'\n"), ("", "''\n"), ("a: b", "'a: b'\n"),
            ("tab\there", "\"tab\\there\"\n"), ("it's", "it's\n"), ("'q'", "'''q'''\n"), ("é", "é\n"),
            ("\u{1F600}", "\"\\U0001F600\"\n"), (1.0, "1.0\n"), (1e100, "1.0e+100\n"), (.float(.infinity), ".inf\n"),
            (nil, "null\n"), (true, "true\n"), ([], "[]\n"), (.dict(ValueDict()), "{}\n"),
        ]
        for (value, expected) in cases {
            XCTAssertEqual(YAMLEmitter.dump(value, YAMLEmitter.Options(indent: 4, flowStyle: .block)), expected, value.pythonRepr)
        }
    }

    func testJSONFilters() throws {
        let templar = TemplateTesting.templar("d: {b: [1, 2.5, null, true], a: 'é'}")
        XCTAssertEqual(try templar.renderString("{{ d | to_json }}"), #"{"b": [1, 2.5, null, true], "a": "\u00e9"}"#)
        XCTAssertEqual(try templar.renderString("{{ d | to_json(ensure_ascii=false, sort_keys=true) }}"), #"{"a": "é", "b": [1, 2.5, null, true]}"#)
        XCTAssertEqual(try templar.renderString("{{ d | to_nice_json }}"), """
        {
            "a": "\\u00e9",
            "b": [
                1,
                2.5,
                null,
                true
            ]
        }
        """)
        XCTAssertEqual(try templar.render(#"{{ '{"x": [1, 2.0, "s", {"y": null}]}' | from_json }}"#), ["x": [1, 2.0, "s", ["y": nil]]])
        XCTAssertThrowsError(try templar.render("{{ '{bad' | from_json }}"))
    }

    func testFromYAML() throws {
        let templar = TemplateTesting.templar("doc: \"a: [1, 2]\\nb: yes\\nc: 0755\\n\"")
        XCTAssertEqual(try templar.render("{{ doc | from_yaml }}"), ["a": [1, 2], "b": true, "c": 493])
        XCTAssertEqual(try templar.render("{{ 'k: v' | from_yaml_all }}"), [["k": "v"]])
    }
}
