package dev.art4j.template;

import dev.art4j.template.Node.*;
import dev.art4j.template.Token.Kind;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the syntax tree from tokens, following Jinja2's grammar and precedence (its
 * {@code parser.py}): ternary {@code if} binds loosest, then {@code or}, {@code and}, {@code not},
 * comparisons, {@code + -}, {@code ~}, {@code * / // %}, {@code **}, unary {@code - +}, and
 * filters/tests/calls/subscripts bind tightest (so {@code messages|length - 1} subtracts from the
 * length). Unknown filters and tests fail here, as in Jinja2, unless they sit inside an {@code if}
 * (then only when evaluated).
 */
final class Parser {

  private final Source source;
  private final List<Token> tokens;
  private int i;
  /** Jinja2's tag stack and end-token stack, for "was looking for" messages. */
  private final List<String> tagStack = new ArrayList<>();
  private final List<List<String>> endTokenStack = new ArrayList<>();
  /** Inside an if statement or if-expression (Jinja2's soft frame): unknown filters fail only when run. */
  private boolean soft;
  private int loopDepth;
  /** Names among caller/kwargs/varargs read inside each macro body being parsed. */
  private final java.util.ArrayDeque<java.util.Set<String>> macroNames = new java.util.ArrayDeque<>();

  private Parser(Source source) {
    this.source = source;
    this.tokens = Lexer.tokenize(source);
  }

  static List<Stmt> parse(Source source) {
    Parser p = new Parser(source);
    List<Stmt> body = p.subparse(null);
    if (!p.cur().is(Kind.EOF)) {
      throw p.fail("unexpected " + p.cur().describe(), p.cur());
    }
    return body;
  }

  // ---- token stream ----

  private Token cur() {
    return tokens.get(i);
  }

  private Token look() {
    return tokens.get(Math.min(i + 1, tokens.size() - 1));
  }

  private Token next() {
    Token t = tokens.get(i);
    if (i < tokens.size() - 1) {
      i++;
    }
    return t;
  }

  private boolean skipOp(String op) {
    if (cur().isOperator(op)) {
      next();
      return true;
    }
    return false;
  }

  private boolean skipName(String name) {
    if (cur().isName(name)) {
      next();
      return true;
    }
    return false;
  }

  private TemplateException fail(String msg, Token at) {
    return source.syntaxError(msg, at.pos());
  }

  private Token expectOp(String op) {
    if (!cur().isOperator(op)) {
      throw unexpected("'" + op + "'");
    }
    return next();
  }

  private Token expect(Kind kind, String what) {
    if (!cur().is(kind)) {
      throw unexpected(what);
    }
    return next();
  }

  private Token expectName(String name) {
    if (!cur().isName(name)) {
      throw unexpected("'name:" + name + "'");
    }
    return next();
  }

  private TemplateException unexpected(String expected) {
    Token t = cur();
    if (t.is(Kind.EOF)) {
      return fail("unexpected end of template, expected " + expected + ".", t);
    }
    return fail("expected token " + expected + ", got '" + t.describe() + "'", t);
  }

  // ---- statements ----

  private List<Stmt> subparse(List<String> endTokens) {
    List<Stmt> body = new ArrayList<>();
    if (endTokens != null) {
      endTokenStack.add(endTokens);
    }
    try {
      while (!cur().is(Kind.EOF)) {
        Token t = cur();
        if (t.is(Kind.TEXT)) {
          body.add(new Text(t.text(), t.pos()));
          next();
        } else if (t.is(Kind.VARIABLE_BEGIN)) {
          next();
          body.add(new Output(parseTuple(false, true, List.of(), false), t.pos()));
          expect(Kind.VARIABLE_END, "'end of print statement'");
        } else if (t.is(Kind.BLOCK_BEGIN)) {
          next();
          if (endTokens != null && cur().is(Kind.NAME) && endTokens.contains(cur().text())) {
            return body;
          }
          Stmt s = parseStatement();
          if (s != null) {
            body.add(s);
          }
          expect(Kind.BLOCK_END, "'end of statement block'");
        } else {
          throw fail("internal parser error: unexpected " + t.kind(), t);
        }
      }
      return body;
    } finally {
      if (endTokens != null) {
        endTokenStack.remove(endTokenStack.size() - 1);
      }
    }
  }

  private List<Stmt> parseStatements(List<String> endTokens, boolean dropNeedle) {
    skipOp(":");
    expect(Kind.BLOCK_END, "'end of statement block'");
    List<Stmt> body = subparse(endTokens);
    if (cur().is(Kind.EOF)) {
      endTokenStack.add(endTokens);
      throw failUnknownTagOrEof(null, cur());
    }
    if (dropNeedle) {
      next();
    }
    return body;
  }

  private TemplateException failUnknownTagOrEof(String name, Token at) {
    List<String> expected = new ArrayList<>();
    for (List<String> e : endTokenStack) {
      expected.addAll(e);
    }
    String looking = null;
    if (!endTokenStack.isEmpty()) {
      List<String> last = endTokenStack.get(endTokenStack.size() - 1);
      StringBuilder sb = new StringBuilder();
      for (String e : last) {
        if (sb.length() > 0) {
          sb.append(" or ");
        }
        sb.append('\'').append(e).append('\'');
      }
      looking = sb.toString();
    }
    StringBuilder msg = new StringBuilder(name == null ? "Unexpected end of template." : "Encountered unknown tag '" + name + "'.");
    if (looking != null) {
      if (name != null && expected.contains(name)) {
        msg.append(" You probably made a nesting mistake. Jinja is expecting this tag, but currently looking for ").append(looking).append('.');
      } else {
        msg.append(" Jinja was looking for the following tags: ").append(looking).append('.');
      }
    }
    if (!tagStack.isEmpty()) {
      msg.append(" The innermost block that needs to be closed is '").append(tagStack.get(tagStack.size() - 1)).append("'.");
    }
    return fail(msg.toString(), at);
  }

  private Stmt parseStatement() {
    Token t = cur();
    if (!t.is(Kind.NAME)) {
      throw fail("tag name expected", t);
    }
    String name = t.text();
    tagStack.add(name);
    boolean savedSoft = soft;
    try {
      switch (name) {
        case "if": return parseIf();
        case "for": return parseFor();
        case "set": return parseSet();
        case "macro": return parseMacro();
        case "call": return parseCallBlock();
        case "filter": return parseFilterBlock();
        case "with": return parseWith();
        case "generation": return parseGeneration();
        case "break":
        case "continue":
          next();
          if (loopDepth == 0) {
            throw fail("'" + name + "' outside loop", t);
          }
          return name.equals("break") ? new Break(t.pos()) : new Continue(t.pos());
        case "block": case "extends": case "print": case "include": case "from": case "import": case "autoescape":
          throw fail("the '" + name + "' tag is not supported in chat templates", t);
        default:
          tagStack.remove(tagStack.size() - 1);
          throw failUnknownTagOrEof(name, t);
      }
    } finally {
      soft = savedSoft;
      if (!tagStack.isEmpty() && tagStack.get(tagStack.size() - 1).equals(name)) {
        tagStack.remove(tagStack.size() - 1);
      }
    }
  }

  private Stmt parseIf() {
    int pos = next().pos();
    soft = true;
    List<Expr> tests = new ArrayList<>();
    List<List<Stmt>> bodies = new ArrayList<>();
    List<Stmt> otherwise = List.of();
    while (true) {
      tests.add(parseTuple(false, false, List.of(), false));
      bodies.add(parseStatements(List.of("elif", "else", "endif"), false));
      Token t = next();
      if (t.isName("elif")) {
        continue;
      }
      if (t.isName("else")) {
        otherwise = parseStatements(List.of("endif"), true);
      }
      break;
    }
    return new If(tests, bodies, otherwise, pos);
  }

  private Stmt parseFor() {
    int pos = next().pos();
    Expr target = parseAssignTarget(true, false, List.of("in"), false);
    expectName("in");
    Expr iter = parseTuple(false, false, List.of("recursive"), false);
    soft = false;
    Expr filter = null;
    if (skipName("if")) {
      filter = parseExpression(true);
    }
    if (cur().isName("recursive")) {
      throw fail("recursive loops are not supported", cur());
    }
    loopDepth++;
    List<Stmt> body;
    try {
      body = parseStatements(List.of("endfor", "else"), false);
    } finally {
      loopDepth--;
    }
    List<Stmt> otherwise = List.of();
    if (next().isName("else")) {
      otherwise = parseStatements(List.of("endfor"), true);
    }
    return new For(target, iter, filter, body, otherwise, pos);
  }

  private Stmt parseSet() {
    int pos = next().pos();
    Expr target = parseAssignTarget(true, false, List.of(), true);
    if (skipOp("=")) {
      return new Set(target, parseTuple(false, true, List.of(), false), pos);
    }
    soft = false;
    Expr filter = parseFilter(null, false);
    List<Stmt> body = parseStatements(List.of("endset"), true);
    return new SetBlock(target, body, filter, pos);
  }

  private Stmt parseMacro() {
    int pos = next().pos();
    soft = false;
    String name = expect(Kind.NAME, "name").text();
    List<String> params = new ArrayList<>();
    List<Expr> defaults = new ArrayList<>();
    parseSignature(params, defaults);
    return new Macro(macroBody(name, params, defaults, "endmacro"), pos);
  }

  private void parseSignature(List<String> params, List<Expr> defaults) {
    expectOp("(");
    boolean sawDefault = false;
    while (!cur().isOperator(")")) {
      if (!params.isEmpty()) {
        expectOp(",");
      }
      Token name = expect(Kind.NAME, "name");
      params.add(name.text());
      if (skipOp("=")) {
        defaults.add(parseExpression(true));
        sawDefault = true;
      } else if (sawDefault) {
        throw fail("non-default argument follows default argument", name);
      } else {
        defaults.add(null);
      }
    }
    expectOp(")");
  }

  private Stmt parseCallBlock() {
    Token t = next();
    soft = false;
    List<String> params = new ArrayList<>();
    List<Expr> defaults = new ArrayList<>();
    if (cur().isOperator("(")) {
      parseSignature(params, defaults);
    }
    Expr call = parseExpression(true);
    if (!(call instanceof Call c)) {
      throw fail("expected call", t);
    }
    return new CallBlock(c, macroBody("caller", params, defaults, "endcall"), t.pos());
  }

  private MacroDef macroBody(String name, List<String> params, List<Expr> defaults, String endTag) {
    int savedDepth = loopDepth;
    loopDepth = 0;
    java.util.Set<String> names = new java.util.HashSet<>();
    macroNames.push(names);
    try {
      List<Stmt> body = parseStatements(List.of(endTag), true);
      return new MacroDef(name, params, defaults, body,
          names.contains("caller"), names.contains("kwargs"), names.contains("varargs"));
    } finally {
      macroNames.pop();
      loopDepth = savedDepth;
    }
  }

  private Stmt parseFilterBlock() {
    int pos = next().pos();
    soft = false;
    Expr filter = parseFilter(null, true);
    return new FilterBlock(filter, parseStatements(List.of("endfilter"), true), pos);
  }

  private Stmt parseWith() {
    int pos = next().pos();
    soft = false;
    List<Expr> targets = new ArrayList<>();
    List<Expr> values = new ArrayList<>();
    while (!cur().is(Kind.BLOCK_END)) {
      if (!targets.isEmpty()) {
        expectOp(",");
      }
      targets.add(parseAssignTarget(true, false, List.of(), false));
      expectOp("=");
      values.add(parseExpression(true));
    }
    return new With(targets, values, parseStatements(List.of("endwith"), true), pos);
  }

  /** transformers' {@code {% generation %}} marks assistant text for masks; it renders its body. */
  private Stmt parseGeneration() {
    int pos = next().pos();
    soft = false;
    return new With(List.of(), List.of(), parseStatements(List.of("endgeneration"), true), pos);
  }

  private Expr parseAssignTarget(boolean withTuple, boolean nameOnly, List<String> extraEnd, boolean withNamespace) {
    Expr target;
    if (withNamespace && cur().is(Kind.NAME) && look().isOperator(".")) {
      Token ns = next();
      next();
      Token attr = expect(Kind.NAME, "name");
      target = new GetAttr(new Name(ns.text(), ns.pos()), attr.text(), ns.pos());
    } else if (nameOnly) {
      Token t = expect(Kind.NAME, "name");
      target = new Name(t.text(), t.pos());
    } else if (withTuple) {
      target = parseTuple(true, true, extraEnd, false);
    } else {
      target = parsePrimary();
    }
    if (!assignable(target)) {
      throw fail("can't assign to '" + kindName(target) + "'", tokenAt(target.pos()));
    }
    return target;
  }

  private static boolean assignable(Expr e) {
    if (e instanceof Name n) {
      return !List.of("true", "false", "none", "True", "False", "None").contains(n.name());
    }
    if (e instanceof TupleExpr t) {
      return t.items().stream().allMatch(Parser::assignable);
    }
    return e instanceof GetAttr;
  }

  private static String kindName(Expr e) {
    return e.getClass().getSimpleName().toLowerCase().replace("expr", "");
  }

  private Token tokenAt(int pos) {
    for (Token t : tokens) {
      if (t.pos() >= pos) {
        return t;
      }
    }
    return cur();
  }

  // ---- expressions ----

  private boolean isTupleEnd(List<String> extraEnd) {
    Token t = cur();
    if (t.is(Kind.VARIABLE_END) || t.is(Kind.BLOCK_END) || t.isOperator(")")) {
      return true;
    }
    return t.is(Kind.NAME) && extraEnd.contains(t.text());
  }

  private Expr parseTuple(boolean simplified, boolean withCondexpr, List<String> extraEnd, boolean explicitParens) {
    int pos = cur().pos();
    List<Expr> args = new ArrayList<>();
    boolean isTuple = false;
    while (true) {
      if (!args.isEmpty()) {
        expectOp(",");
      }
      if (isTupleEnd(extraEnd)) {
        break;
      }
      args.add(simplified ? parsePrimary() : parseExpression(withCondexpr));
      if (cur().isOperator(",")) {
        isTuple = true;
      } else {
        break;
      }
    }
    if (!isTuple) {
      if (!args.isEmpty()) {
        return args.get(0);
      }
      if (!explicitParens) {
        throw fail("Expected an expression, got '" + cur().describe() + "'", cur());
      }
    }
    return new TupleExpr(args, pos);
  }

  private Expr parseExpression(boolean withCondexpr) {
    return withCondexpr ? parseCondexpr() : parseOr();
  }

  private Expr parseCondexpr() {
    boolean savedSoft = soft;
    Expr expr1 = parseOr();
    while (cur().isName("if")) {
      int pos = next().pos();
      soft = true;
      Expr test = parseOr();
      Expr otherwise = skipName("else") ? parseCondexpr() : null;
      expr1 = new CondExpr(test, expr1, otherwise, pos);
    }
    soft = savedSoft;
    return expr1;
  }

  private Expr parseOr() {
    Expr left = parseAnd();
    while (cur().isName("or")) {
      int pos = next().pos();
      left = new Or(left, parseAnd(), pos);
    }
    return left;
  }

  private Expr parseAnd() {
    Expr left = parseNot();
    while (cur().isName("and")) {
      int pos = next().pos();
      left = new And(left, parseNot(), pos);
    }
    return left;
  }

  private Expr parseNot() {
    if (cur().isName("not")) {
      int pos = next().pos();
      return new Not(parseNot(), pos);
    }
    return parseCompare();
  }

  private static final List<String> COMPARE_OPS = List.of("==", "!=", "<", "<=", ">", ">=");

  private Expr parseCompare() {
    int pos = cur().pos();
    Expr first = parseMath1();
    List<String> ops = new ArrayList<>();
    List<Expr> rest = new ArrayList<>();
    while (true) {
      Token t = cur();
      if (t.is(Kind.OPERATOR) && COMPARE_OPS.contains(t.text())) {
        next();
        ops.add(t.text());
      } else if (t.isName("in")) {
        next();
        ops.add("in");
      } else if (t.isName("not") && look().isName("in")) {
        next();
        next();
        ops.add("notin");
      } else {
        break;
      }
      rest.add(parseMath1());
    }
    return ops.isEmpty() ? first : new Compare(first, ops, rest, pos);
  }

  private Expr parseMath1() {
    Expr left = parseConcat();
    while (cur().isOperator("+") || cur().isOperator("-")) {
      Token op = next();
      left = new Binary(op.text(), left, parseConcat(), op.pos());
    }
    return left;
  }

  private Expr parseConcat() {
    Expr left = parseMath2();
    while (cur().isOperator("~")) {
      Token op = next();
      left = new Binary("~", left, parseMath2(), op.pos());
    }
    return left;
  }

  private Expr parseMath2() {
    Expr left = parsePow();
    while (cur().isOperator("*") || cur().isOperator("/") || cur().isOperator("//") || cur().isOperator("%")) {
      Token op = next();
      left = new Binary(op.text(), left, parsePow(), op.pos());
    }
    return left;
  }

  private Expr parsePow() {
    Expr left = parseUnary(true);
    while (cur().isOperator("**")) {
      Token op = next();
      left = new Binary("**", left, parseUnary(true), op.pos());
    }
    return left;
  }

  private Expr parseUnary(boolean withFilter) {
    Token t = cur();
    Expr node;
    if (t.isOperator("-") || t.isOperator("+")) {
      next();
      node = new Unary(t.text(), parseUnary(false), t.pos());
    } else {
      node = parsePrimary();
    }
    node = parsePostfix(node);
    if (withFilter) {
      node = parseFilterExpr(node);
    }
    return node;
  }

  private Expr parsePrimary() {
    Token t = cur();
    switch (t.kind()) {
      case NAME:
        next();
        switch (t.text()) {
          case "true": case "True": return new Const(Boolean.TRUE, t.pos());
          case "false": case "False": return new Const(Boolean.FALSE, t.pos());
          case "none": case "None": return new Const(null, t.pos());
          default:
            if (t.text().equals("caller") || t.text().equals("kwargs") || t.text().equals("varargs")) {
              macroNames.forEach(s -> s.add(t.text()));
            }
            return new Name(t.text(), t.pos());
        }
      case STRING: {
        next();
        StringBuilder sb = new StringBuilder((String) t.value());
        while (cur().is(Kind.STRING)) {
          sb.append((String) next().value());
        }
        return new Const(sb.toString(), t.pos());
      }
      case INTEGER:
      case FLOAT:
        next();
        return new Const(t.value(), t.pos());
      case OPERATOR:
        if (t.text().equals("(")) {
          next();
          Expr e = parseTuple(false, true, List.of(), true);
          expectOp(")");
          return e;
        }
        if (t.text().equals("[")) {
          return parseList();
        }
        if (t.text().equals("{")) {
          return parseDict();
        }
        break;
      default:
        break;
    }
    if (t.is(Kind.EOF)) {
      throw fail("unexpected end of template", t);
    }
    throw fail("unexpected '" + t.describe() + "'", t);
  }

  private Expr parseList() {
    int pos = expectOp("[").pos();
    List<Expr> items = new ArrayList<>();
    while (!cur().isOperator("]")) {
      if (!items.isEmpty()) {
        expectOp(",");
      }
      if (cur().isOperator("]")) {
        break;
      }
      items.add(parseExpression(true));
    }
    expectOp("]");
    return new ListExpr(items, pos);
  }

  private Expr parseDict() {
    int pos = expectOp("{").pos();
    List<Expr> keys = new ArrayList<>();
    List<Expr> values = new ArrayList<>();
    while (!cur().isOperator("}")) {
      if (!keys.isEmpty()) {
        expectOp(",");
      }
      if (cur().isOperator("}")) {
        break;
      }
      keys.add(parseExpression(true));
      expectOp(":");
      values.add(parseExpression(true));
    }
    expectOp("}");
    return new DictExpr(keys, values, pos);
  }

  private Expr parsePostfix(Expr node) {
    while (true) {
      if (cur().isOperator(".") || cur().isOperator("[")) {
        node = parseSubscript(node);
      } else if (cur().isOperator("(")) {
        int pos = cur().pos();
        node = new Call(node, parseCallArgs(), pos);
      } else {
        return node;
      }
    }
  }

  private Expr parseFilterExpr(Expr node) {
    while (true) {
      if (cur().isOperator("|")) {
        node = parseFilter(node, false);
      } else if (cur().isName("is")) {
        node = parseTest(node);
      } else if (cur().isOperator("(")) {
        int pos = cur().pos();
        node = new Call(node, parseCallArgs(), pos);
      } else {
        return node;
      }
    }
  }

  private Expr parseSubscript(Expr node) {
    Token t = next();
    if (t.isOperator(".")) {
      Token attr = next();
      if (attr.is(Kind.NAME)) {
        return new GetAttr(node, attr.text(), attr.pos());
      }
      if (!attr.is(Kind.INTEGER)) {
        throw fail("expected name or number", attr);
      }
      return new GetItem(node, new Const(attr.value(), attr.pos()), attr.pos());
    }
    List<Expr> args = new ArrayList<>();
    while (!cur().isOperator("]")) {
      if (!args.isEmpty()) {
        expectOp(",");
      }
      args.add(parseSubscribed());
    }
    expectOp("]");
    Expr key = args.size() == 1 ? args.get(0) : new TupleExpr(args, t.pos());
    return new GetItem(node, key, t.pos());
  }

  private Expr parseSubscribed() {
    int pos = cur().pos();
    Expr start = null;
    if (cur().isOperator(":")) {
      next();
    } else {
      Expr e = parseExpression(true);
      if (!cur().isOperator(":")) {
        return e;
      }
      next();
      start = e;
    }
    Expr stop = null;
    Expr step = null;
    if (!cur().isOperator(":") && !cur().isOperator("]") && !cur().isOperator(",")) {
      stop = parseExpression(true);
    }
    if (cur().isOperator(":")) {
      next();
      if (!cur().isOperator("]") && !cur().isOperator(",")) {
        step = parseExpression(true);
      }
    }
    return new Slice(start, stop, step, pos);
  }

  private Args parseCallArgs() {
    Token open = expectOp("(");
    List<Expr> positional = new ArrayList<>();
    List<String> names = new ArrayList<>();
    List<Expr> values = new ArrayList<>();
    Expr star = null;
    Expr starStar = null;
    boolean requireComma = false;
    while (!cur().isOperator(")")) {
      if (requireComma) {
        expectOp(",");
        if (cur().isOperator(")")) {
          break;
        }
      }
      if (cur().isOperator("*")) {
        ensure(star == null && starStar == null, open);
        next();
        star = parseExpression(true);
      } else if (cur().isOperator("**")) {
        ensure(starStar == null, open);
        next();
        starStar = parseExpression(true);
      } else if (cur().is(Kind.NAME) && look().isOperator("=")) {
        ensure(starStar == null, open);
        names.add(next().text());
        next();
        values.add(parseExpression(true));
      } else {
        ensure(star == null && starStar == null && names.isEmpty(), open);
        positional.add(parseExpression(true));
      }
      requireComma = true;
    }
    expectOp(")");
    if (positional.isEmpty() && names.isEmpty() && star == null && starStar == null) {
      return Args.NONE;
    }
    return new Args(positional, names, values, star, starStar);
  }

  private void ensure(boolean ok, Token at) {
    if (!ok) {
      throw fail("invalid syntax for function call expression", at);
    }
  }

  private Expr parseFilter(Expr node, boolean startInline) {
    while (cur().isOperator("|") || startInline) {
      if (!startInline) {
        next();
      }
      Token nameTok = expect(Kind.NAME, "name");
      String name = nameTok.text();
      while (cur().isOperator(".")) {
        next();
        name += "." + expect(Kind.NAME, "name").text();
      }
      Args args = cur().isOperator("(") ? parseCallArgs() : Args.NONE;
      if (!Filters.exists(name) && !soft) {
        throw source.error("TemplateAssertionError", "No filter named '" + name + "'.", nameTok.pos());
      }
      node = new Filter(node, name, args, nameTok.pos());
      startInline = false;
    }
    return node;
  }

  private Expr parseTest(Expr node) {
    Token is = next();
    boolean negated = skipName("not");
    Token nameTok = expect(Kind.NAME, "name");
    String name = nameTok.text();
    while (cur().isOperator(".")) {
      next();
      name += "." + expect(Kind.NAME, "name").text();
    }
    Args args = Args.NONE;
    Token t = cur();
    if (t.isOperator("(")) {
      args = parseCallArgs();
    } else if ((t.is(Kind.NAME) || t.is(Kind.STRING) || t.is(Kind.INTEGER) || t.is(Kind.FLOAT)
        || t.isOperator("[") || t.isOperator("{"))
        && !t.isName("else") && !t.isName("or") && !t.isName("and")) {
      if (t.isName("is")) {
        throw fail("You cannot chain multiple tests with is", t);
      }
      Expr arg = parsePostfix(parsePrimary());
      args = new Args(List.of(arg), List.of(), List.of(), null, null);
    }
    if (!Tests.exists(name) && !soft) {
      throw source.error("TemplateAssertionError", "No test named '" + name + "'.", nameTok.pos());
    }
    Expr test = new Test(node, name, args, is.pos());
    return negated ? new Not(test, is.pos()) : test;
  }
}
