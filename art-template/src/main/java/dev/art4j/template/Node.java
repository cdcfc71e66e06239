package dev.art4j.template;

import java.util.List;

/**
 * The syntax tree of a template: statements ({@link Stmt}) that write output, and expressions
 * ({@link Expr}) that compute values. Every node keeps the source offset it started at, for
 * error messages. Built once by {@link Parser}, walked by {@link Interpreter} on every render.
 */
interface Node {

  int pos();

  /** Something that yields a value. */
  interface Expr extends Node {}

  /** Something that writes output or changes variables. */
  interface Stmt extends Node {}

  // ---- expressions ----

  record Const(Object value, int pos) implements Expr {}

  record Name(String name, int pos) implements Expr {}

  record ListExpr(List<Expr> items, int pos) implements Expr {}

  record TupleExpr(List<Expr> items, int pos) implements Expr {}

  record DictExpr(List<Expr> keys, List<Expr> values, int pos) implements Expr {}

  record GetAttr(Expr target, String name, int pos) implements Expr {}

  record GetItem(Expr target, Expr key, int pos) implements Expr {}

  /** {@code start:stop:step}, only ever the key of a {@link GetItem}; absent parts are null. */
  record Slice(Expr start, Expr stop, Expr step, int pos) implements Expr {}

  /** Arguments of a call, a filter or a test. */
  record Args(List<Expr> positional, List<String> names, List<Expr> values, Expr star, Expr starStar) {
    static final Args NONE = new Args(List.of(), List.of(), List.of(), null, null);
  }

  record Call(Expr target, Args args, int pos) implements Expr {}

  /** {@code value | name(args)}; value is null inside a filter block or block set. */
  record Filter(Expr value, String name, Args args, int pos) implements Expr {}

  record Test(Expr value, String name, Args args, int pos) implements Expr {}

  record Unary(String op, Expr operand, int pos) implements Expr {}

  /** Arithmetic and {@code ~}: {@code + - * / // % ** ~}. */
  record Binary(String op, Expr left, Expr right, int pos) implements Expr {}

  record And(Expr left, Expr right, int pos) implements Expr {}

  record Or(Expr left, Expr right, int pos) implements Expr {}

  record Not(Expr operand, int pos) implements Expr {}

  /** A comparison chain {@code a < b <= c}: ops are {@code == != < <= > >= in notin}. */
  record Compare(Expr first, List<String> ops, List<Expr> rest, int pos) implements Expr {}

  /** {@code then if test else otherwise}; otherwise null when absent (gives undefined). */
  record CondExpr(Expr test, Expr then, Expr otherwise, int pos) implements Expr {}

  // ---- statements ----

  record Text(String text, int pos) implements Stmt {}

  record Output(Expr expr, int pos) implements Stmt {}

  record If(List<Expr> tests, List<List<Stmt>> bodies, List<Stmt> otherwise, int pos) implements Stmt {}

  record For(Expr target, Expr iter, Expr filter, List<Stmt> body, List<Stmt> otherwise, int pos) implements Stmt {}

  /** {@code set target = value}; target is a Name, a TupleExpr of Names, or a GetAttr on a namespace. */
  record Set(Expr target, Expr value, int pos) implements Stmt {}

  /** {@code set target | filters %}body{% endset}: filters are a Filter chain ending in a null value, or null. */
  record SetBlock(Expr target, List<Stmt> body, Expr filter, int pos) implements Stmt {}

  /**
   * A macro's signature and body; the flags say whether the body reads {@code caller},
   * {@code kwargs} or {@code varargs}, which decides what arguments it accepts (as in Jinja2).
   */
  record MacroDef(String name, List<String> params, List<Expr> defaults, List<Stmt> body,
      boolean usesCaller, boolean usesKwargs, boolean usesVarargs) {}

  record Macro(MacroDef def, int pos) implements Stmt {}

  /** {@code call(params) macro(args)}: body becomes {@code caller}. */
  record CallBlock(Call call, MacroDef caller, int pos) implements Stmt {}

  record FilterBlock(Expr filter, List<Stmt> body, int pos) implements Stmt {}

  record With(List<Expr> targets, List<Expr> values, List<Stmt> body, int pos) implements Stmt {}

  record Break(int pos) implements Stmt {}

  record Continue(int pos) implements Stmt {}
}
