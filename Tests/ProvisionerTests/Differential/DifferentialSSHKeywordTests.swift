import XCTest

/// Keywords that matter over ssh, run through ansible-playbook and provision against a private sshd
/// on this machine (SSHTestServer): delegate_to an ssh host, environment through the remote shell,
/// the play's remote_user and port. The sshd's sessions see SSH_CONNECTION, so files show where a
/// command really ran.
final class DifferentialSSHKeywordTests: XCTestCase {
    static let count = 4

    func testDelegationEnvironmentAndConnectionKeywords() throws {
        let server = try SSHTestServer.start()
        let python = URL(fileURLWithPath: try TestSupport.ansiblePlaybook()).deletingLastPathComponent().appendingPathComponent("python").path
        let common = "-F /dev/null -o IdentitiesOnly=yes -o IdentityAgent=none -o UserKnownHostsFile=\(server.knownHosts)"
        let reach = "ansible_host=127.0.0.1 ansible_ssh_private_key_file=\(server.clientKey) ansible_ssh_common_args='\(common)'"
            + " ansible_ssh_args='' ansible_python_interpreter=\(python)"
        // A connection shared as Ansible's default ssh_args share it, its socket named by host, port and user (%C), short enough for a socket path.
        let shared = reach.replacingOccurrences(of: "ansible_ssh_args=''",
                                                with: "ansible_ssh_args='-o ControlMaster=auto -o ControlPersist=60s -o ControlPath=/tmp/pk-%C'")
        let inventory = """
            here ansible_connection=local
            remote ansible_port=\(server.port) ansible_user=\(server.user) \(reach)
            bare \(reach)
            shared ansible_port=\(server.port) ansible_user=\(server.user) \(shared)

            """
        let plays = [
            DifferentialPlay("delegate_to an ssh host, with an environment the remote shell must not interpret", play: """
            - hosts: here
              gather_facts: false
              tasks:
                - shell: 'echo "${SSH_CONNECTION:+over-ssh}|$ODD" > {{ root }}/delegated'
                  delegate_to: remote
                  environment: {ODD: "it's \\"q\\" $HOME `id` \\\\ ;|& *"}
                - command: printenv ODD
                  delegate_to: remote
                  environment: {ODD: "a  b\\nc"}
                  register: printed
                - copy: {dest: "{{ root }}/printed", content: "{{ printed.stdout }}"}
                - shell: 'echo "${SSH_CONNECTION:+over-ssh}" > {{ root }}/local'
                - debug: msg="seen {{ lookup('file', root + '/delegated') }}"
            """, inventory: inventory, expectedInBoth: ["seen over-ssh|it's"]),
            DifferentialPlay("the play's remote_user and port reach a host whose inventory sets neither", play: """
            - hosts: bare
              gather_facts: false
              remote_user: \(server.user)
              port: \(server.port)
              tasks:
                - shell: 'echo "${SSH_CONNECTION:+over-ssh} $(id -un)" > {{ root }}/bare'
                - debug: msg="seen {{ lookup('file', root + '/bare') }}"
            """, inventory: inventory, expectedInBoth: ["seen over-ssh \(server.user)"]),
            DifferentialPlay("a remote_user the host refuses makes it unreachable", play: """
            - hosts: bare
              gather_facts: false
              remote_user: no-such-user-here
              port: \(server.port)
              tasks:
                - shell: 'echo x > {{ root }}/never'
            """, inventory: inventory),
            DifferentialPlay("reset_connection ends the shared connection: the next task logs in anew", play: """
            - hosts: shared
              gather_facts: false
              tasks:
                - shell: 'echo "$SSH_CONNECTION" > {{ root }}/.first'
                - shell: '[ "$SSH_CONNECTION" = "$(cat {{ root }}/.first)" ] && echo same > {{ root }}/before || echo new > {{ root }}/before'
                - meta: reset_connection
                - shell: '[ "$SSH_CONNECTION" = "$(cat {{ root }}/.first)" ] && echo same > {{ root }}/after || echo new > {{ root }}/after'
                - file: {path: "{{ root }}/.first", state: absent}
                - debug: msg="reset {{ lookup('file', root + '/before') }}-{{ lookup('file', root + '/after') }}"
                - meta: reset_connection
            """, inventory: inventory, expectedInBoth: ["reset same-new"]),
        ]
        XCTAssertEqual(plays.count, Self.count)
        try AnsibleDifferential.assertAllAgree(plays)
    }
}
