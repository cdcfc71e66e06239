package dev.art4j.template;

/**
 * One lexical token: template text, a tag delimiter, or a piece of an expression inside a tag.
 *
 * @param kind  what it is
 * @param text  the operator or name as written; for {@link Kind#TEXT} the output text
 * @param value the literal's value for STRING (a String), INTEGER (Long) and FLOAT (Double)
 * @param pos   offset in the normalised source, for error positions
 */
record Token(Kind kind, String text, Object value, int pos) {

  enum Kind { TEXT, VARIABLE_BEGIN, VARIABLE_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, INTEGER, FLOAT, OPERATOR, EOF }

  boolean is(Kind k) {
    return kind == k;
  }

  boolean isOperator(String op) {
    return kind == Kind.OPERATOR && text.equals(op);
  }

  boolean isName(String name) {
    return kind == Kind.NAME && text.equals(name);
  }

  /** How Jinja2 names the token in "expected ..., got ..." messages. */
  String describe() {
    switch (kind) {
      case EOF: return "end of template";
      case VARIABLE_END: return "end of print statement";
      case BLOCK_END: return "end of statement block";
      case NAME: case OPERATOR: return text;
      case STRING: return "string";
      case INTEGER: return "integer";
      case FLOAT: return "float";
      case TEXT: return "template data / text";
      case VARIABLE_BEGIN: return "begin of print statement";
      case BLOCK_BEGIN: return "begin of statement block";
      default: return text;
    }
  }
}
