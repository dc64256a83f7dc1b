//! A bot process driven line by line (tests/bots/*.py): one command on its stdin, one JSON answer
//! per line on its stdout; `quit` when the test lets go of it.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::Value;

pub struct LineBot {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl LineBot {
    pub fn spawn(mut cmd: Command) -> LineBot {
        let mut child = cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        LineBot { child, stdin, stdout }
    }

    pub fn send(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// The next answer (on a blocking thread: the agent runs on the test's runtime).
    pub fn answer(&mut self, what: &str) -> Value {
        let mut answer = String::new();
        tokio::task::block_in_place(|| self.stdout.read_line(&mut answer)).unwrap();
        serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {answer:?}"))
    }

    pub fn ask(&mut self, line: &str) -> Value {
        self.send(line);
        self.answer(line)
    }
}

impl Drop for LineBot {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.child.wait();
    }
}

pub fn assert_ok(answer: &Value) {
    assert_eq!(answer["ok"], true, "{answer}");
}
