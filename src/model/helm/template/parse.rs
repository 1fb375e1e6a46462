//! The parser: pieces from the lexer into a tree of [`Item`]s, `define`d
//! templates collected beside it.

use std::rc::Rc;

use super::lex::{Piece, Tok, Token, lex};
use super::{At, Cmd, Define, Item, MAX_NESTING, Parsed, Pipe, Source, SyntaxError, Term};

/// Parse a template. A syntax error anywhere fails the whole template, as
/// in Go.
pub fn parse(src: Rc<Source>) -> Result<Parsed, SyntaxError> {
    let pieces = lex(&src.text)?;
    let mut p = Parser {
        pieces,
        i: 0,
        src: src.clone(),
        defines: Vec::new(),
        depth: 0,
    };
    let (body, end) = p.list()?;
    if let Some(e) = end {
        return Err(SyntaxError {
            at: e.at,
            message: format!("unexpected {{{{{}}}}}", e.word),
        });
    }
    Ok(Parsed {
        src,
        body: Rc::new(body),
        defines: p.defines,
    })
}

struct Parser {
    pieces: Vec<Piece>,
    i: usize,
    src: Rc<Source>,
    defines: Vec<Define>,
    depth: usize,
}

/// What ended a list: `end`, or `else` with the tokens after it.
struct Ender {
    word: &'static str,
    rest: Vec<Token>,
    at: At,
}

fn serr(at: At, message: impl Into<String>) -> SyntaxError {
    SyntaxError {
        at,
        message: message.into(),
    }
}

impl Parser {
    fn list(&mut self) -> Result<(Vec<Item>, Option<Ender>), SyntaxError> {
        let mut out = Vec::new();
        while self.i < self.pieces.len() {
            let piece = std::mem::replace(&mut self.pieces[self.i], Piece::Text((0, 0)));
            self.i += 1;
            let (toks, at) = match piece {
                Piece::Text(at) => {
                    out.push(Item::Text(at));
                    continue;
                }
                Piece::Action { toks, at } => (toks, at),
            };
            let Some(first) = toks.first() else {
                return Err(serr(at, "missing value for command"));
            };
            let word = match &first.tok {
                Tok::Ident(w) => w.as_str(),
                _ => "",
            };
            match word {
                "end" | "else" => {
                    if word == "end" && toks.len() > 1 {
                        return Err(serr(at, "unexpected tokens after {{end}}"));
                    }
                    return Ok((
                        out,
                        Some(Ender {
                            word: if word == "end" { "end" } else { "else" },
                            rest: toks[1..].to_vec(),
                            at,
                        }),
                    ));
                }
                "if" | "with" => {
                    let item = self.conditional(word, &toks[1..], at)?;
                    out.push(item);
                }
                "range" => {
                    let pipe = pipeline(&toks[1..], at, true)?;
                    let (body, end) = self.nested(at)?;
                    let els = match end {
                        Ender {
                            word: "else",
                            rest,
                            at: eat,
                        } => {
                            if !rest.is_empty() {
                                return Err(serr(eat, "unexpected tokens after {{else}} in range"));
                            }
                            self.expect_end(at)?
                        }
                        _ => Vec::new(),
                    };
                    out.push(Item::Range {
                        pipe,
                        body,
                        els,
                        at,
                    });
                }
                "define" | "block" => {
                    let name = match toks.get(1).map(|t| &t.tok) {
                        Some(Tok::Lit(super::Lit::Str(s))) => s.clone(),
                        _ => return Err(serr(at, format!("{word} needs a quoted name"))),
                    };
                    let pipe = if word == "block" {
                        Some(pipeline(&toks[2..], at, false)?)
                    } else if toks.len() > 2 {
                        return Err(serr(at, "unexpected tokens after define name"));
                    } else {
                        None
                    };
                    let body = self.expect_end(at)?;
                    self.defines.push(Define {
                        name: name.clone(),
                        body: Rc::new(body),
                        src: self.src.clone(),
                    });
                    if word == "block" {
                        out.push(Item::Template { name, pipe, at });
                    }
                }
                "template" => {
                    let name = match toks.get(1).map(|t| &t.tok) {
                        Some(Tok::Lit(super::Lit::Str(s))) => s.clone(),
                        _ => return Err(serr(at, "template needs a quoted name")),
                    };
                    let pipe = if toks.len() > 2 {
                        Some(pipeline(&toks[2..], at, false)?)
                    } else {
                        None
                    };
                    out.push(Item::Template { name, pipe, at });
                }
                "break" => out.push(Item::Break(at)),
                "continue" => out.push(Item::Continue(at)),
                _ => {
                    let pipe = pipeline(&toks, at, false)?;
                    out.push(Item::Action { pipe, at });
                }
            }
        }
        Ok((out, None))
    }

    /// A nested list that must be closed (by `end` or `else`).
    fn nested(&mut self, at: At) -> Result<(Vec<Item>, Ender), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(serr(
                at,
                format!("control structures nested deeper than {MAX_NESTING}"),
            ));
        }
        let (items, end) = self.list()?;
        self.depth -= 1;
        match end {
            Some(e) => Ok((items, e)),
            None => Err(serr(at, "unexpected EOF: this action has no {{end}}")),
        }
    }

    fn expect_end(&mut self, at: At) -> Result<Vec<Item>, SyntaxError> {
        let (items, end) = self.nested(at)?;
        if end.word != "end" {
            return Err(serr(end.at, "expected {{end}}"));
        }
        Ok(items)
    }

    /// `if` / `with` with their `else if` / `else with` arms and `else`.
    fn conditional(&mut self, word: &str, toks: &[Token], at: At) -> Result<Item, SyntaxError> {
        let mut arms = Vec::new();
        let mut cond = pipeline(toks, at, false)?;
        let mut els = Vec::new();
        // Each `else if` nests one level deeper in Go; bound it the same way.
        let mut chain = 0usize;
        loop {
            let (body, end) = self.nested(at)?;
            arms.push((cond, body));
            if end.word == "end" {
                break;
            }
            match end.rest.first().map(|t| &t.tok) {
                None => {
                    els = self.expect_end(at)?;
                    break;
                }
                Some(Tok::Ident(w)) if w == word => {
                    chain += 1;
                    if chain > MAX_NESTING {
                        return Err(serr(end.at, "too many else arms"));
                    }
                    cond = pipeline(&end.rest[1..], end.at, false)?;
                }
                _ => {
                    return Err(serr(
                        end.at,
                        format!("unexpected tokens after {{{{else}}}} in {word}"),
                    ));
                }
            }
        }
        Ok(if word == "if" {
            Item::If { arms, els, at }
        } else {
            Item::With { arms, els, at }
        })
    }
}

/// A pipeline from an action's tokens (after its keyword). `range` may
/// declare two variables.
fn pipeline(toks: &[Token], at: At, range: bool) -> Result<Pipe, SyntaxError> {
    let mut decl = Vec::new();
    let mut assign = false;
    let mut i = 0;
    let is_decl = |t: Option<&Token>| matches!(t.map(|t| &t.tok), Some(Tok::Declare | Tok::Assign));
    match (
        toks.first().map(|t| &t.tok),
        toks.get(1).map(|t| &t.tok),
        toks.get(2).map(|t| &t.tok),
    ) {
        (Some(Tok::Var(a)), _, _) if is_decl(toks.get(1)) => {
            decl.push(a.clone());
            assign = matches!(toks[1].tok, Tok::Assign);
            i = 2;
        }
        (Some(Tok::Var(a)), Some(Tok::Comma), Some(Tok::Var(b)))
            if range && is_decl(toks.get(3)) =>
        {
            decl.push(a.clone());
            decl.push(b.clone());
            assign = matches!(toks[3].tok, Tok::Assign);
            i = 4;
        }
        _ => {}
    }
    let mut c = Cursor { toks, i, depth: 0 };
    let mut pipe = c.pipe(at, false)?;
    if c.i < toks.len() {
        return Err(serr(toks[c.i].at, "unexpected token in pipeline"));
    }
    if pipe.cmds.is_empty() {
        return Err(serr(at, "missing value for command"));
    }
    pipe.decl = decl;
    pipe.assign = assign;
    Ok(pipe)
}

struct Cursor<'t> {
    toks: &'t [Token],
    i: usize,
    depth: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|t| &t.tok)
    }

    fn pipe(&mut self, at: At, in_paren: bool) -> Result<Pipe, SyntaxError> {
        let mut cmds = Vec::new();
        loop {
            let start = self.toks.get(self.i).map_or(at.0, |t| t.at.0);
            let mut args = Vec::new();
            while let Some(t) = self.peek() {
                if matches!(t, Tok::Pipe | Tok::RParen) {
                    break;
                }
                args.push(self.operand(at)?);
            }
            let end = self
                .toks
                .get(self.i.saturating_sub(1))
                .map_or(at.1, |t| t.at.1);
            if args.is_empty() {
                return Err(serr(at, "missing value for command"));
            }
            cmds.push(Cmd {
                args,
                at: (start, end.max(start)),
            });
            match self.peek() {
                Some(Tok::Pipe) => self.i += 1,
                Some(Tok::RParen) if in_paren => {
                    self.i += 1;
                    break;
                }
                Some(Tok::RParen) => {
                    return Err(serr(self.toks[self.i].at, "unexpected right paren"));
                }
                None if in_paren => return Err(serr(at, "unclosed left paren")),
                _ => break,
            }
        }
        Ok(Pipe {
            decl: Vec::new(),
            assign: false,
            cmds,
            at,
        })
    }

    /// Fields written right after a term (`(x).a.b`, `$x.a`).
    fn chain(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(t) = self.toks.get(self.i) {
            match &t.tok {
                Tok::Field(f) if !t.spaced => {
                    out.push(f.clone());
                    self.i += 1;
                }
                _ => break,
            }
        }
        out
    }

    fn operand(&mut self, at: At) -> Result<Term, SyntaxError> {
        let Some(t) = self.toks.get(self.i) else {
            return Err(serr(at, "missing operand"));
        };
        let tat = t.at;
        self.i += 1;
        Ok(match &t.tok {
            Tok::Dot => Term::Dot,
            Tok::Field(f) => {
                let mut v = vec![f.clone()];
                v.extend(self.chain());
                Term::Field(v, tat)
            }
            Tok::Var(v) => {
                let fields = self.chain();
                Term::Var(v.clone(), fields, tat)
            }
            Tok::Ident(f) => {
                if matches!(
                    f.as_str(),
                    "if" | "else"
                        | "end"
                        | "range"
                        | "with"
                        | "define"
                        | "template"
                        | "block"
                        | "break"
                        | "continue"
                ) {
                    return Err(serr(tat, format!("unexpected keyword {f} in command")));
                }
                Term::Func(f.clone(), tat)
            }
            Tok::Lit(l) => Term::Lit(l.clone()),
            Tok::LParen => {
                self.depth += 1;
                if self.depth > MAX_NESTING {
                    return Err(serr(
                        tat,
                        format!("parentheses nested deeper than {MAX_NESTING}"),
                    ));
                }
                let inner = self.pipe(tat, true)?;
                self.depth -= 1;
                let fields = self.chain();
                Term::Sub(Box::new(inner), fields)
            }
            Tok::Declare | Tok::Assign => {
                return Err(serr(tat, "unexpected declaration in command"));
            }
            Tok::Comma => return Err(serr(tat, "unexpected comma")),
            Tok::Pipe | Tok::RParen => return Err(serr(tat, "unexpected token")),
        })
    }
}
