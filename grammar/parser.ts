// The %arcuate grammar: a Chevrotain CstParser, grammar only (meaning lives in build-ast.ts).
// Rules are class fields, so a misspelt rule is a compile error. Summary in EBNF:
//
//   script         = [statement] { ";" [statement] }
//   statement      = createStatement | alterShare | alterRecipient | refreshShare | dropStatement | grantStatement
//                  | revokeStatement | showStatement | describeStatement | selectStatement
//                  | plotStatement | useStatement | explainStatement | helpStatement
//   createStatement= CREATE ( createShare | createRecipient | createImport )
//   createShare    = SHARE [IF NOT EXISTS] shareName [COMMENT stringValue]
//                    [WITH shareObject { "," shareObject }]
//   shareObject    = EXPERIMENT experimentName [AS exportName] [WITHOUT assetName]
//                  | MODEL modelName [AS exportName] | PROMPT promptName [AS exportName]
//                  | TABLE exportName FROM ( EXPERIMENT experimentName | MODEL modelName )
//   createRecipient= RECIPIENT [IF NOT EXISTS] recipientName [USING OAUTH] [COMMENT stringValue]
//                    [WITH ACTIVATION LINK]
//   createImport   = [OR REPLACE] ( EXPERIMENT experimentName | MODEL modelName | PROMPT promptName )
//                    USING SHARE stringValue [VERSION AS OF integerValue]
//   alterShare     = ALTER SHARE shareName alteration { "," alteration }
//   alteration     = ADD ( EXPERIMENT experimentName | MODEL modelName | PROMPT promptName )
//                    [AS exportName] [WITHOUT assetName]       -- assetName: traces
//                  | REMOVE exportName
//                  | SET ( DISPLAYNAME stringValue | COMMENT stringValue
//                        | PROPERTIES "(" shareProperty { "," shareProperty } ")" )
//   shareProperty  = stringValue "=" ( stringValue | NULL )   -- NULL removes the property
//   alterRecipient = ALTER RECIPIENT recipientName recipientLimit { "," recipientLimit }
//   recipientLimit = SET ( ALLOWED ADDRESSES "(" stringValue { "," stringValue } ")"
//                        | RATE LIMIT integerValue PER rateUnit )   -- rateUnit: second | minute | hour
//                  | UNSET ( ALLOWED ADDRESSES | RATE LIMIT )
//   refreshShare   = REFRESH SHARE shareName [exportName]
//   dropStatement  = DROP ( SHARE [IF EXISTS] shareName | RECIPIENT [IF EXISTS] recipientName )
//   grantStatement = GRANT SELECT ON SHARE shareName TO RECIPIENT recipientName
//   revokeStatement= REVOKE SELECT ON SHARE shareName FROM RECIPIENT recipientName
//   showStatement  = SHOW ( SHARES [IN stringValue] | RECIPIENTS
//                         | GRANTS ( ON SHARE shareName | TO RECIPIENT recipientName )
//                         | TABLES IN ( SHARE shareName | stringValue ) | MODELS IN stringValue
//                         | TRACE stringValue FROM ( EXPERIMENT experimentName | stringValue )
//                         | ACCESS [ON SHARE shareName] [FOR RECIPIENT recipientName] [SINCE stringValue] )
//   describeStatement = DESCRIBE ( SHARE shareName | RECIPIENT recipientName | HISTORY tableRef )
//   tableRef       = shareName "." exportName "." tableName
//   selectStatement= SELECT ( "*" | columnName { "," columnName } ) FROM stringValue
//                    [VERSION AS OF integerValue] [WHERE condition] [LIMIT integerValue]
//   condition      = conjunction { OR conjunction }
//   conjunction    = negation { AND negation }
//   negation       = NOT negation | predicate
//   predicate      = "(" condition ")"
//                  | columnName ( compareOp literal | IS [NOT] NULL
//                               | [NOT] IN "(" literal { "," literal } ")" | [NOT] LIKE stringValue )
//   plotStatement  = PLOT METRIC metricName FROM ( EXPERIMENT experimentName | stringValue )
//                    [BY axisName]                     -- axisName: step | time
//   literal        = string | number | TRUE | FALSE | NULL | :parameter
//   useStatement   = USE ( MLFLOW stringValue | PROFILE stringValue )
//   explainStatement = EXPLAIN statement
//   helpStatement  = HELP { keyword | name }
//   name           = identifier | `back-quoted` | 'quoted' | :parameter
//
// The *Name rules all accept a `name`; they exist so errors and completion know what kind of name
// is expected at a point ("a share name", completed from the shares that exist).
import { CstParser } from "chevrotain";
import {
  allTokens,
  Comma,
  Dot,
  Equals,
  Greater,
  GreaterOrEqual,
  Identifier,
  K,
  Keyword,
  Less,
  LessOrEqual,
  LParen,
  NotEquals,
  NumberLiteral,
  Parameter,
  QuotedIdentifier,
  RParen,
  Semicolon,
  Star,
  StringLiteral,
} from "./tokens.js";

export class ArcuateParser extends CstParser {
  constructor() {
    // maxLookahead 3 is enough: the longest decision is `NOT IN` / `NOT LIKE` after a column.
    super(allTokens, { recoveryEnabled: true, maxLookahead: 3, nodeLocationTracking: "full" });
    this.performSelfAnalysis();
  }

  script = this.RULE("script", () => {
    this.OPTION(() => this.SUBRULE(this.statement));
    this.MANY(() => {
      this.CONSUME(Semicolon);
      this.OPTION2(() => this.SUBRULE2(this.statement));
    });
  });

  statement = this.RULE("statement", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.createStatement) },
      { ALT: () => this.SUBRULE(this.alterShare) },
      { ALT: () => this.SUBRULE(this.alterRecipient) },
      { ALT: () => this.SUBRULE(this.refreshShare) },
      { ALT: () => this.SUBRULE(this.dropStatement) },
      { ALT: () => this.SUBRULE(this.grantStatement) },
      { ALT: () => this.SUBRULE(this.revokeStatement) },
      { ALT: () => this.SUBRULE(this.showStatement) },
      { ALT: () => this.SUBRULE(this.describeStatement) },
      { ALT: () => this.SUBRULE(this.selectStatement) },
      { ALT: () => this.SUBRULE(this.plotStatement) },
      { ALT: () => this.SUBRULE(this.useStatement) },
      { ALT: () => this.SUBRULE(this.explainStatement) },
      { ALT: () => this.SUBRULE(this.helpStatement) },
    ]);
  });

  createStatement = this.RULE("createStatement", () => {
    this.CONSUME(K.CREATE);
    this.OR([
      { ALT: () => this.SUBRULE(this.createShare) },
      { ALT: () => this.SUBRULE(this.createRecipient) },
      { ALT: () => this.SUBRULE(this.createImport) },
    ]);
  });

  createShare = this.RULE("createShare", () => {
    this.CONSUME(K.SHARE);
    this.OPTION(() => {
      this.CONSUME(K.IF);
      this.CONSUME(K.NOT);
      this.CONSUME(K.EXISTS);
    });
    this.SUBRULE(this.shareName);
    this.OPTION2(() => {
      this.CONSUME(K.COMMENT);
      this.SUBRULE(this.stringValue);
    });
    this.OPTION3(() => {
      this.CONSUME(K.WITH);
      this.SUBRULE(this.shareObject);
      this.MANY(() => {
        this.CONSUME(Comma);
        this.SUBRULE2(this.shareObject);
      });
    });
  });

  shareObject = this.RULE("shareObject", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.EXPERIMENT);
          this.SUBRULE(this.experimentName);
          this.OPTION(() => {
            this.CONSUME(K.AS);
            this.SUBRULE(this.exportName);
          });
          this.OPTION4(() => {
            this.CONSUME(K.WITHOUT);
            this.SUBRULE(this.assetName);
          });
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.MODEL);
          this.SUBRULE(this.modelName);
          this.OPTION2(() => {
            this.CONSUME2(K.AS);
            this.SUBRULE2(this.exportName);
          });
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.PROMPT);
          this.SUBRULE(this.promptName);
          this.OPTION3(() => {
            this.CONSUME3(K.AS);
            this.SUBRULE4(this.exportName);
          });
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.TABLE);
          this.SUBRULE3(this.exportName);
          this.CONSUME(K.FROM);
          this.OR2([
            {
              ALT: () => {
                this.CONSUME2(K.EXPERIMENT);
                this.SUBRULE2(this.experimentName);
              },
            },
            {
              ALT: () => {
                this.CONSUME2(K.MODEL);
                this.SUBRULE2(this.modelName);
              },
            },
          ]);
        },
      },
    ]);
  });

  createRecipient = this.RULE("createRecipient", () => {
    this.CONSUME(K.RECIPIENT);
    this.OPTION(() => {
      this.CONSUME(K.IF);
      this.CONSUME(K.NOT);
      this.CONSUME(K.EXISTS);
    });
    this.SUBRULE(this.recipientName);
    // OAuth 2.0 client credentials instead of a bearer token.
    this.OPTION3(() => {
      this.CONSUME(K.USING);
      this.CONSUME(K.OAUTH);
    });
    this.OPTION2(() => {
      this.CONSUME(K.COMMENT);
      this.SUBRULE(this.stringValue);
    });
    this.OPTION4({
      // ACTIVATION and LINK are not reserved (see recipientLimit).
      GATE: () =>
        this.LA(2).image.toUpperCase() === "ACTIVATION" && this.LA(3).image.toUpperCase() === "LINK",
      DEF: () => {
        this.CONSUME(K.WITH);
        this.CONSUME(Identifier, { LABEL: "ACTIVATION" });
        this.CONSUME2(Identifier, { LABEL: "LINK" });
      },
    });
  });

  createImport = this.RULE("createImport", () => {
    this.OPTION(() => {
      this.CONSUME(K.OR);
      this.CONSUME(K.REPLACE);
    });
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.EXPERIMENT);
          this.SUBRULE(this.experimentName);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.MODEL);
          this.SUBRULE(this.modelName);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.PROMPT);
          this.SUBRULE(this.promptName);
        },
      },
    ]);
    this.CONSUME(K.USING);
    this.CONSUME(K.SHARE);
    this.SUBRULE(this.stringValue);
    this.OPTION2(() => {
      this.CONSUME(K.VERSION);
      this.CONSUME(K.AS);
      this.CONSUME(K.OF);
      this.SUBRULE(this.integerValue);
    });
  });

  alterShare = this.RULE("alterShare", () => {
    this.CONSUME(K.ALTER);
    this.CONSUME(K.SHARE);
    this.SUBRULE(this.shareName);
    this.SUBRULE(this.alteration);
    this.MANY(() => {
      this.CONSUME(Comma);
      this.SUBRULE2(this.alteration);
    });
  });

  alterRecipient = this.RULE("alterRecipient", () => {
    this.CONSUME(K.ALTER);
    this.CONSUME(K.RECIPIENT);
    this.SUBRULE(this.recipientName);
    this.SUBRULE(this.recipientLimit);
    this.MANY(() => {
      this.CONSUME(Comma);
      this.SUBRULE2(this.recipientLimit);
    });
  });

  // ALLOWED, ADDRESSES, RATE, PER, UNSET (and ACTIVATION, LINK above) are not reserved words:
  // bare words matched by their text, so they stay usable as names and column names.
  recipientLimit = this.RULE("recipientLimit", () => {
    // Each alternative is gated by its words, at the places they take.
    const words =
      (...texts: Array<[number, string]>) =>
      () =>
        texts.every(([at, text]) => this.LA(at).image.toUpperCase() === text);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.SET);
          this.OR2([
            {
              GATE: words([1, "ALLOWED"], [2, "ADDRESSES"]),
              ALT: () => {
                this.CONSUME(Identifier, { LABEL: "ALLOWED" });
                this.CONSUME2(Identifier, { LABEL: "ADDRESSES" });
                this.CONSUME(LParen);
                this.SUBRULE(this.stringValue);
                this.MANY(() => {
                  this.CONSUME(Comma);
                  this.SUBRULE2(this.stringValue);
                });
                this.CONSUME(RParen);
              },
            },
            {
              GATE: words([1, "RATE"], [4, "PER"]),
              ALT: () => {
                this.CONSUME3(Identifier, { LABEL: "RATE" });
                this.CONSUME(K.LIMIT);
                this.SUBRULE(this.integerValue);
                this.CONSUME4(Identifier, { LABEL: "PER" });
                this.SUBRULE(this.rateUnit);
              },
            },
          ]);
        },
      },
      {
        GATE: words([1, "UNSET"]),
        ALT: () => {
          this.CONSUME5(Identifier, { LABEL: "UNSET" });
          this.OR3([
            {
              GATE: words([1, "ALLOWED"], [2, "ADDRESSES"]),
              ALT: () => {
                this.CONSUME6(Identifier, { LABEL: "ALLOWED" });
                this.CONSUME7(Identifier, { LABEL: "ADDRESSES" });
              },
            },
            {
              GATE: words([1, "RATE"]),
              ALT: () => {
                this.CONSUME8(Identifier, { LABEL: "RATE" });
                this.CONSUME2(K.LIMIT);
              },
            },
          ]);
        },
      },
    ]);
  });

  alteration = this.RULE("alteration", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.ADD);
          this.OR2([
            {
              ALT: () => {
                this.CONSUME(K.EXPERIMENT);
                this.SUBRULE(this.experimentName);
              },
            },
            {
              ALT: () => {
                this.CONSUME(K.MODEL);
                this.SUBRULE(this.modelName);
              },
            },
            {
              ALT: () => {
                this.CONSUME(K.PROMPT);
                this.SUBRULE(this.promptName);
              },
            },
          ]);
          this.OPTION(() => {
            this.CONSUME(K.AS);
            this.SUBRULE(this.exportName);
          });
          this.OPTION2(() => {
            this.CONSUME(K.WITHOUT);
            this.SUBRULE(this.assetName);
          });
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.REMOVE);
          this.SUBRULE2(this.exportName);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.SET);
          this.SUBRULE(this.shareDetail);
        },
      },
    ]);
  });

  shareDetail = this.RULE("shareDetail", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.DISPLAYNAME);
          this.SUBRULE(this.stringValue);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.COMMENT);
          this.SUBRULE2(this.stringValue);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.PROPERTIES);
          this.CONSUME(LParen);
          this.SUBRULE(this.shareProperty);
          this.MANY(() => {
            this.CONSUME(Comma);
            this.SUBRULE2(this.shareProperty);
          });
          this.CONSUME(RParen);
        },
      },
    ]);
  });

  shareProperty = this.RULE("shareProperty", () => {
    this.SUBRULE(this.stringValue);
    this.CONSUME(Equals);
    this.OR([{ ALT: () => this.SUBRULE2(this.stringValue) }, { ALT: () => this.CONSUME(K.NULL) }]);
  });

  refreshShare = this.RULE("refreshShare", () => {
    this.CONSUME(K.REFRESH);
    this.CONSUME(K.SHARE);
    this.SUBRULE(this.shareName);
    this.OPTION(() => this.SUBRULE(this.exportName));
  });

  dropStatement = this.RULE("dropStatement", () => {
    this.CONSUME(K.DROP);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.SHARE);
          this.OPTION(() => {
            this.CONSUME(K.IF);
            this.CONSUME(K.EXISTS);
          });
          this.SUBRULE(this.shareName);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.RECIPIENT);
          this.OPTION2(() => {
            this.CONSUME2(K.IF);
            this.CONSUME2(K.EXISTS);
          });
          this.SUBRULE(this.recipientName);
        },
      },
    ]);
  });

  grantStatement = this.RULE("grantStatement", () => {
    this.CONSUME(K.GRANT);
    this.CONSUME(K.SELECT);
    this.CONSUME(K.ON);
    this.CONSUME(K.SHARE);
    this.SUBRULE(this.shareName);
    this.CONSUME(K.TO);
    this.CONSUME(K.RECIPIENT);
    this.SUBRULE(this.recipientName);
  });

  revokeStatement = this.RULE("revokeStatement", () => {
    this.CONSUME(K.REVOKE);
    this.CONSUME(K.SELECT);
    this.CONSUME(K.ON);
    this.CONSUME(K.SHARE);
    this.SUBRULE(this.shareName);
    this.CONSUME(K.FROM);
    this.CONSUME(K.RECIPIENT);
    this.SUBRULE(this.recipientName);
  });

  showStatement = this.RULE("showStatement", () => {
    this.CONSUME(K.SHOW);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.SHARES);
          this.OPTION(() => {
            this.CONSUME(K.IN);
            this.SUBRULE(this.stringValue);
          });
        },
      },
      { ALT: () => this.CONSUME(K.RECIPIENTS) },
      {
        ALT: () => {
          this.CONSUME(K.GRANTS);
          this.OR2([
            {
              ALT: () => {
                this.CONSUME(K.ON);
                this.CONSUME(K.SHARE);
                this.SUBRULE(this.shareName);
              },
            },
            {
              ALT: () => {
                this.CONSUME(K.TO);
                this.CONSUME(K.RECIPIENT);
                this.SUBRULE(this.recipientName);
              },
            },
          ]);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.TABLES);
          this.CONSUME2(K.IN);
          this.OR3([
            {
              ALT: () => {
                this.CONSUME2(K.SHARE);
                this.SUBRULE2(this.shareName);
              },
            },
            { ALT: () => this.SUBRULE2(this.stringValue) },
          ]);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.TRACE);
          this.SUBRULE4(this.stringValue);
          this.CONSUME(K.FROM);
          this.OR4([
            {
              ALT: () => {
                this.CONSUME(K.EXPERIMENT);
                this.SUBRULE(this.experimentName);
              },
            },
            { ALT: () => this.SUBRULE5(this.stringValue) },
          ]);
        },
      },
      {
        // MODELS is not a reserved word (names like `models` stay names): a bare word, by its text.
        GATE: () => this.LA(1).image.toUpperCase() === "MODELS",
        ALT: () => {
          this.CONSUME(Identifier, { LABEL: "MODELS" });
          this.CONSUME3(K.IN);
          this.SUBRULE3(this.stringValue);
        },
      },
      {
        // ACCESS, FOR and SINCE are not reserved either: `access` stays a name elsewhere.
        GATE: () => this.LA(1).image.toUpperCase() === "ACCESS",
        ALT: () => {
          this.CONSUME2(Identifier, { LABEL: "ACCESS" });
          this.OPTION2(() => {
            this.CONSUME2(K.ON);
            this.CONSUME3(K.SHARE);
            this.SUBRULE3(this.shareName);
          });
          this.OPTION3({
            GATE: () => this.LA(1).image.toUpperCase() === "FOR",
            DEF: () => {
              this.CONSUME3(Identifier, { LABEL: "FOR" });
              this.CONSUME2(K.RECIPIENT);
              this.SUBRULE2(this.recipientName);
            },
          });
          this.OPTION4({
            GATE: () => this.LA(1).image.toUpperCase() === "SINCE",
            DEF: () => {
              this.CONSUME4(Identifier, { LABEL: "SINCE" });
              this.SUBRULE6(this.stringValue);
            },
          });
        },
      },
    ]);
  });

  describeStatement = this.RULE("describeStatement", () => {
    this.CONSUME(K.DESCRIBE);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.SHARE);
          this.SUBRULE(this.shareName);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.RECIPIENT);
          this.SUBRULE(this.recipientName);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.HISTORY);
          this.SUBRULE(this.tableRef);
        },
      },
    ]);
  });

  tableRef = this.RULE("tableRef", () => {
    this.SUBRULE(this.shareName);
    this.CONSUME(Dot);
    this.SUBRULE(this.exportName);
    this.CONSUME2(Dot);
    this.SUBRULE(this.tableName);
  });

  selectStatement = this.RULE("selectStatement", () => {
    this.CONSUME(K.SELECT);
    this.OR([
      { ALT: () => this.CONSUME(Star) },
      {
        ALT: () => {
          this.SUBRULE(this.columnName);
          this.MANY(() => {
            this.CONSUME(Comma);
            this.SUBRULE2(this.columnName);
          });
        },
      },
    ]);
    this.CONSUME(K.FROM);
    this.SUBRULE(this.stringValue);
    this.OPTION3(() => {
      this.CONSUME(K.VERSION);
      this.CONSUME(K.AS);
      this.CONSUME(K.OF);
      this.SUBRULE(this.integerValue);
    });
    this.OPTION(() => {
      this.CONSUME(K.WHERE);
      this.SUBRULE(this.condition);
    });
    this.OPTION2(() => {
      this.CONSUME(K.LIMIT);
      this.SUBRULE2(this.integerValue);
    });
  });

  plotStatement = this.RULE("plotStatement", () => {
    this.CONSUME(K.PLOT);
    this.CONSUME(K.METRIC);
    this.SUBRULE(this.metricName);
    this.CONSUME(K.FROM);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.EXPERIMENT);
          this.SUBRULE(this.experimentName);
        },
      },
      { ALT: () => this.SUBRULE(this.stringValue) },
    ]);
    this.OPTION(() => {
      this.CONSUME(K.BY);
      this.SUBRULE(this.axisName);
    });
  });

  condition = this.RULE("condition", () => {
    this.SUBRULE(this.conjunction);
    this.MANY(() => {
      this.CONSUME(K.OR);
      this.SUBRULE2(this.conjunction);
    });
  });

  conjunction = this.RULE("conjunction", () => {
    this.SUBRULE(this.negation);
    this.MANY(() => {
      this.CONSUME(K.AND);
      this.SUBRULE2(this.negation);
    });
  });

  negation = this.RULE("negation", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.NOT);
          this.SUBRULE(this.negation);
        },
      },
      { ALT: () => this.SUBRULE(this.predicate) },
    ]);
  });

  predicate = this.RULE("predicate", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(LParen);
          this.SUBRULE(this.condition);
          this.CONSUME(RParen);
        },
      },
      {
        ALT: () => {
          this.SUBRULE(this.columnName);
          this.SUBRULE(this.predicateTail);
        },
      },
    ]);
  });

  predicateTail = this.RULE("predicateTail", () => {
    this.OR([
      {
        ALT: () => {
          this.SUBRULE(this.compareOperator);
          this.SUBRULE(this.literal);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.IS);
          this.OPTION(() => this.CONSUME(K.NOT));
          this.CONSUME(K.NULL);
        },
      },
      {
        ALT: () => {
          this.OPTION2(() => this.CONSUME2(K.NOT));
          this.OR2([
            {
              ALT: () => {
                this.CONSUME(K.IN);
                this.CONSUME(LParen);
                this.SUBRULE2(this.literal);
                this.MANY(() => {
                  this.CONSUME(Comma);
                  this.SUBRULE3(this.literal);
                });
                this.CONSUME(RParen);
              },
            },
            {
              ALT: () => {
                this.CONSUME(K.LIKE);
                this.SUBRULE(this.stringValue);
              },
            },
          ]);
        },
      },
    ]);
  });

  compareOperator = this.RULE("compareOperator", () => {
    this.OR([
      { ALT: () => this.CONSUME(Equals) },
      { ALT: () => this.CONSUME(NotEquals) },
      { ALT: () => this.CONSUME(LessOrEqual) },
      { ALT: () => this.CONSUME(GreaterOrEqual) },
      { ALT: () => this.CONSUME(Less) },
      { ALT: () => this.CONSUME(Greater) },
    ]);
  });

  literal = this.RULE("literal", () => {
    this.OR([
      { ALT: () => this.CONSUME(StringLiteral) },
      { ALT: () => this.CONSUME(NumberLiteral) },
      { ALT: () => this.CONSUME(K.TRUE) },
      { ALT: () => this.CONSUME(K.FALSE) },
      { ALT: () => this.CONSUME(K.NULL) },
      { ALT: () => this.CONSUME(Parameter) },
    ]);
  });

  useStatement = this.RULE("useStatement", () => {
    this.CONSUME(K.USE);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(K.MLFLOW);
          this.SUBRULE(this.stringValue);
        },
      },
      {
        ALT: () => {
          this.CONSUME(K.PROFILE);
          this.SUBRULE2(this.stringValue);
        },
      },
    ]);
  });

  explainStatement = this.RULE("explainStatement", () => {
    this.CONSUME(K.EXPLAIN);
    this.SUBRULE(this.statement);
  });

  helpStatement = this.RULE("helpStatement", () => {
    this.CONSUME(K.HELP);
    this.MANY(() => {
      this.OR([{ ALT: () => this.CONSUME(Keyword) }, { ALT: () => this.CONSUME(Identifier) }]);
    });
  });

  // Names, by the kind of thing they name (see the header).
  shareName = this.RULE("shareName", () => this.SUBRULE(this.name));
  recipientName = this.RULE("recipientName", () => this.SUBRULE(this.name));
  experimentName = this.RULE("experimentName", () => this.SUBRULE(this.name));
  modelName = this.RULE("modelName", () => this.SUBRULE(this.name));
  promptName = this.RULE("promptName", () => this.SUBRULE(this.name));
  /** What `WITHOUT` leaves out of an experiment export: `traces` (a name: also a table's name). */
  assetName = this.RULE("assetName", () => this.SUBRULE(this.name));
  exportName = this.RULE("exportName", () => this.SUBRULE(this.name));
  tableName = this.RULE("tableName", () => this.SUBRULE(this.name));
  metricName = this.RULE("metricName", () => this.SUBRULE(this.name));
  /** The x axis of a chart: `step` or `time` (names, not keywords: both are common column names). */
  axisName = this.RULE("axisName", () => this.SUBRULE(this.name));
  /** The period of a rate limit: `second`, `minute` or `hour` (names, like axisName). */
  rateUnit = this.RULE("rateUnit", () => this.SUBRULE(this.name));

  name = this.RULE("name", () => {
    this.OR([
      { ALT: () => this.CONSUME(Identifier) },
      { ALT: () => this.CONSUME(QuotedIdentifier) },
      { ALT: () => this.CONSUME(StringLiteral) },
      { ALT: () => this.CONSUME(Parameter) },
    ]);
  });

  /** A column of a shared table: a bare or back-quoted name ('x' is a string in a condition). */
  columnName = this.RULE("columnName", () => {
    this.OR([{ ALT: () => this.CONSUME(Identifier) }, { ALT: () => this.CONSUME(QuotedIdentifier) }]);
  });

  stringValue = this.RULE("stringValue", () => {
    this.OR([{ ALT: () => this.CONSUME(StringLiteral) }, { ALT: () => this.CONSUME(Parameter) }]);
  });

  integerValue = this.RULE("integerValue", () => {
    this.OR([{ ALT: () => this.CONSUME(NumberLiteral) }, { ALT: () => this.CONSUME(Parameter) }]);
  });
}

/** The one parser instance: Chevrotain parsers are reusable by resetting `input`. */
export const arcuateParser = new ArcuateParser();
