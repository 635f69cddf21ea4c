//! One accepting and one rejecting program per verifier rule, written in the
//! text form (so the parser is exercised too).

use isa::{parse, verify, Rule};

/// Load Q into `a`, multiply on the PE array into `b`, store `b` to O.
const HEADER: &str = "flatsim-isa 1
name verifier fixture
element_bytes 2
sram_capacity_bytes 256
region a offset=0 slot_bytes=32 slot_stride=64 slots=2
region b offset=128 slot_bytes=32 slot_stride=64 slots=1
dram Q role=q base=0 dims=1x1x4x4
dram O role=o base=4096 dims=1x1x4x4
token a.dma unit=dma
token b.pe unit=pe
token b.vector unit=vector
";

const LOAD: &str = "dma load dram=0 stride=8 rows=4 row_bytes=8 sram=a[0]+0 signal=a.dma";
const GEMM: &str = "pe gemm m=4 k=4 n=4 a=a[0]+0/8 b=a[0]+0/8 c=b[0]+0/8 bt=1 acc=0 df=os wait=a.dma>=1 signal=b.pe";
const STORE: &str = "dma store dram=4096 stride=8 rows=4 row_bytes=8 sram=b[0]+0 wait=b.pe>=1";

fn program(lines: &[&str]) -> isa::Program {
    let text = format!("{HEADER}{}\n", lines.join("\n"));
    parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn rule_of(lines: &[&str]) -> Option<Rule> {
    verify(&program(lines)).err().map(|e| e.rule)
}

#[test]
fn accepted_base_program() {
    assert_eq!(rule_of(&[LOAD, GEMM, STORE]), None);
}

#[test]
fn rule1_tokens_declared_and_owned() {
    // Accepted: b.pe is signalled by the pe unit that owns it.
    assert_eq!(rule_of(&[LOAD, GEMM, STORE]), None);
    // Rejected: the vector-owned token signalled by a pe instruction.
    let gemm = GEMM.replace("signal=b.pe", "signal=b.pe,b.vector");
    assert_eq!(
        rule_of(&[LOAD, &gemm, STORE]),
        Some(Rule::TokensDeclaredAndOwned)
    );
}

#[test]
fn rule2_waits_signalled() {
    // Accepted: two loads signal a.dma twice, the gemm waits for both.
    let load2 = LOAD.replace("a[0]", "a[1]");
    let gemm = GEMM.replace("a.dma>=1", "a.dma>=2");
    assert_eq!(rule_of(&[LOAD, &load2, &gemm, STORE]), None);
    // Rejected: only one load, the gemm waits for two signals.
    assert_eq!(rule_of(&[LOAD, &gemm, STORE]), Some(Rule::WaitsSignalled));
    // Rejected: a wait for zero signals is meaningless.
    let gemm0 = GEMM.replace("a.dma>=1", "a.dma>=0");
    assert_eq!(rule_of(&[LOAD, &gemm0, STORE]), Some(Rule::WaitsSignalled));
}

#[test]
fn rule3_regions_in_bounds() {
    // Accepted: a row stride of 8 keeps the 4×4 tile inside the 32-byte slot.
    assert_eq!(rule_of(&[LOAD, GEMM, STORE]), None);
    // Rejected: a stride of 16 makes the gemm's output run past slot_bytes.
    let gemm = GEMM.replace("c=b[0]+0/8", "c=b[0]+0/16");
    assert_eq!(rule_of(&[LOAD, &gemm, STORE]), Some(Rule::RegionsInBounds));
    // Rejected: slot 2 of a two-slot region.
    let load = LOAD.replace("a[0]", "a[2]");
    assert_eq!(rule_of(&[&load, GEMM, STORE]), Some(Rule::RegionsInBounds));
    // Rejected: DRAM bytes outside every tensor.
    let store = STORE.replace("dram=4096", "dram=4100");
    assert_eq!(rule_of(&[LOAD, GEMM, &store]), Some(Rule::RegionsInBounds));
    // Rejected: a region table that overflows the SRAM.
    let text = format!(
        "{}{LOAD}\n",
        HEADER.replace("region b offset=128", "region b offset=224")
    );
    assert_eq!(
        verify(&parse(&text).unwrap()).unwrap_err().rule,
        Rule::RegionsInBounds
    );
}

#[test]
fn rule4_no_cycle() {
    // Accepted: the store waits for the gemm, which waits for the load.
    assert_eq!(rule_of(&[LOAD, GEMM, STORE]), None);
    // Rejected: the load waits for the gemm, which waits for the load.
    let load = LOAD.replace("signal=a.dma", "wait=b.pe>=1 signal=a.dma");
    assert_eq!(rule_of(&[&load, GEMM, STORE]), Some(Rule::NoCycle));
    // Rejected: in-order issue makes a wait on a later instruction of the same
    // unit a cycle too (the store sits before the load it depends on).
    let store_first = STORE.replace("wait=b.pe>=1", "wait=a.dma>=1");
    assert_eq!(rule_of(&[&store_first, LOAD]), Some(Rule::NoCycle));
}

#[test]
fn rule5_no_race() {
    // Accepted: the gemm waits for the load that writes its operand.
    assert_eq!(rule_of(&[LOAD, GEMM, STORE]), None);
    // Rejected: without the wait the gemm reads `a` while it may be written.
    let gemm = GEMM.replace(" wait=a.dma>=1", "");
    assert_eq!(rule_of(&[LOAD, &gemm, STORE]), Some(Rule::NoRace));
    // Rejected (write after read): a second load overwrites a[0] while the
    // gemm that reads it may still run; accepted when it waits for the gemm.
    let reload = LOAD.replace("signal=a.dma", "");
    assert_eq!(rule_of(&[LOAD, &reload, GEMM, STORE]), Some(Rule::NoRace));
    let reload_after = LOAD.replace("signal=a.dma", "wait=b.pe>=1");
    assert_eq!(rule_of(&[LOAD, STORE, &reload_after, GEMM]), None);
    // Rejected: two DMA transfers may overlap, so a store of `b` racing a
    // load into `b` is a race even within one unit.
    let load_b = "dma load dram=0 stride=8 rows=4 row_bytes=8 sram=b[0]+0";
    assert_eq!(rule_of(&[LOAD, GEMM, STORE, load_b]), Some(Rule::NoRace));
}

#[test]
fn errors_name_the_instruction() {
    let gemm = GEMM.replace(" wait=a.dma>=1", "");
    let err = verify(&program(&[LOAD, &gemm, STORE])).unwrap_err();
    assert_eq!((err.unit, err.index), (Some(isa::Unit::Pe), Some(0)));
    assert!(
        err.to_string()
            .starts_with("rule 5 violated at pe instruction 0"),
        "{err}"
    );
}

#[test]
fn parse_errors_name_line_and_reason() {
    let text = format!("{HEADER}{LOAD}\npe gemm m=4 k=4\n");
    let err = parse(&text).unwrap_err();
    assert_eq!(err.line, HEADER.lines().count() + 2);
    assert!(err.reason.contains("missing key"), "{err}");
    let err = parse(&format!(
        "{HEADER}dma load dram=0 stride=8 rows=4 row_bytes=8 sram=zz[0]+0\n"
    ))
    .unwrap_err();
    assert!(err.reason.contains("unknown region `zz`"), "{err}");
    let err = parse(&format!("{HEADER}{LOAD} bogus=1\n")).unwrap_err();
    assert!(err.reason.contains("unknown key `bogus`"), "{err}");
    assert_eq!(parse("nope").unwrap_err().line, 1);
}

#[test]
fn text_round_trips() {
    let p = program(&[LOAD, GEMM, STORE]);
    let printed = isa::print(&p);
    let again = parse(&printed).unwrap();
    assert_eq!(p, again);
    assert_eq!(printed, isa::print(&again));
    assert!(printed.contains(GEMM), "{printed}");
}
