//! Rendering is deterministic: the same platform gives the same bytes, and the order in which
//! tenants and their apps are written in the spec does not change a single byte.

mod support;

use proptest::prelude::*;

/// A permutation of `0..n` from a seed (splitmix64), so shrinking stays reproducible.
fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut state = seed;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

fn shuffled<T: Clone>(items: &[T], seed: u64) -> Vec<T> {
    permutation(items.len(), seed).into_iter().filter_map(|i| items.get(i).cloned()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn tenant_and_app_order_does_not_change_the_output(seed in any::<u64>(), pick in 0usize..64) {
        let cases: Vec<_> = support::cases().into_iter().filter(|c| !c.name.starts_with("fixtures/error-")).collect();
        let case = &cases[pick % cases.len()];
        let (loaded, _) = support::load(&case.name, &case.text);
        let first = hafen_render::render(&loaded);
        let again = hafen_render::render(&loaded);
        prop_assert!(first == again, "same platform, different bytes");

        let mut reordered = loaded.clone();
        let spec = &mut reordered.platform.spec;
        spec.tenants = shuffled(&spec.tenants, seed);
        for (i, tenant) in spec.tenants.iter_mut().enumerate() {
            tenant.apps = shuffled(&tenant.apps, seed.wrapping_add(i as u64 + 1));
        }
        let second = hafen_render::render(&reordered);
        let (Ok(first), Ok(second)) = (first, second) else {
            return Err(TestCaseError::fail(format!("{} did not render", case.name)));
        };
        let differing: Vec<&String> = first
            .files
            .iter()
            .filter(|(path, text)| second.files.get(*path) != Some(*text))
            .map(|(path, _)| path)
            .chain(second.files.keys().filter(|p| !first.files.contains_key(*p)))
            .collect();
        prop_assert!(differing.is_empty(), "tenant or app order changed {:?} of {}", differing, case.name);
    }
}
