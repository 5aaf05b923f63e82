import XCTest

/// Plays both programs already agree on: they keep the harness itself honest (a recap is parsed,
/// trees are compared), and a deliberate disagreement is caught.
final class DifferentialBasicsTests: XCTestCase {
    func testCopyLoopAndHandlersAgree() throws {
        try AnsibleDifferential.assertAllAgree([
            DifferentialPlay("copy twice, the second ok", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - copy: {dest: "{{ root }}/a.txt", content: "one\\n", mode: "0640"}
                - copy: {dest: "{{ root }}/a.txt", content: "one\\n", mode: "0640"}
            """),
            DifferentialPlay("loop, when and a handler", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - copy: {dest: "{{ root }}/{{ item }}", content: "{{ item }}\\n"}
                  loop: [x, y, z]
                  when: item != 'y'
                  notify: done
              handlers:
                - name: done
                  copy: {dest: "{{ root }}/handler", content: "ran\\n"}
            """),
        ])
    }

    func testFreeFormCommandsKeepTheirWhitespace() throws {
        try AnsibleDifferential.assertAllAgree([
            DifferentialPlay("a shell block with a heredoc: indentation, runs of spaces and tabs kept", play: """
            - hosts: all
              gather_facts: false
              tasks:
                - shell: |
                    cat > {{ root }}/out <<EOF
                        indented  two   spaces
                    a\ttab
                    EOF
                    chdir={{ root }}
                    echo  "a  b"   c  > where
            """),
        ])
    }

    func testADisagreementIsSeen() throws {
        let (ansible, ours) = try AnsibleDifferential.run(DifferentialPlay("host-specific content", play: """
        - hosts: all
          gather_facts: false
          tasks:
            - copy: {dest: "{{ root }}/who", content: "{{ root }}"}
        """))
        XCTAssertEqual(ansible.recap["localhost"]?["changed"], 1)
        XCTAssertEqual(ours.recap, ansible.recap)
        XCTAssertNotEqual(ours.tree, ansible.tree, "each program writes its own folder's path: the trees must differ")
    }
}
