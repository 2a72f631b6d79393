//! Exit plans produce a consistent target spec: facts of the old provider (links, site
//! networks, addresses, backup endpoints) do not survive the move, backups move with their
//! site and provider together, storage is one the target can run, the target gets a
//! credential placeholder, and the findings are the real check's on the retargeted spec.

mod common;

use common::{example, load};
use hafen_plan::Options;

fn exit(source: &str, target: &str) -> hafen_plan::exit::ExitPlan {
    let options =
        Options { samples: 0, exit: Some((source.into(), target.into())), ..Options::default() };
    let r = hafen_plan::plan(&load(&example()), &options, &mut |_, _| {});
    r.exit.unwrap_or_else(|| panic!("no exit plan"))
}

fn retargeted(x: &hafen_plan::exit::ExitPlan) -> hafen_spec::LoadedPlatform {
    let mut sources = hafen_diag::Sources::new();
    let (catalog, _) = hafen_catalog::Catalog::builtin(&mut sources);
    let (loaded, diags) = hafen_spec::load_str("after.yaml", &x.retargeted, &mut sources, &catalog);
    loaded.unwrap_or_else(|| panic!("retargeted spec does not load: {diags:?}\n{}", x.retargeted))
}

#[test]
fn leaving_hetzner_cloud_for_scaleway_leaves_no_stale_facts() {
    let x = exit("hcloud", "scaleway");
    assert_eq!(x.error, None);
    let after = retargeted(&x);
    let spec = &after.platform.spec;
    // The vSwitch link's 3.1 ms and privacy were facts of the old path.
    assert!(spec.links.is_empty(), "{:?}", spec.links);
    assert!(x.review.iter().any(|r| r.path == "spec.links[0]" && r.message.contains("3.1 ms")));
    // prod-fsn's backups lived at hcloud's nbg1 object storage: provider, site and endpoint
    // change together, and the bucket is data to move.
    let fsn = spec.cluster("prod-fsn").unwrap_or_else(|| panic!("prod-fsn"));
    let b = fsn.backups.as_ref().unwrap_or_else(|| panic!("backups"));
    assert_eq!(b.provider.as_deref(), Some("scaleway"));
    assert_eq!(b.site.as_deref(), Some("fr-par-1-scaleway"));
    assert_eq!(b.endpoint, None, "the nbg1 endpoint does not follow the bucket to Paris");
    assert!(
        x.data.iter().any(|d| d.app == "backups"
            && d.volume == "s3://beach-backups/prod-fsn"
            && d.bytes > 0),
        "{:?}",
        x.data
    );
    // The new site starts with no network facts of Hetzner's.
    let site = spec.site("fr-par-1-scaleway").unwrap_or_else(|| panic!("new site"));
    assert!(site.network.private_network.is_none() && site.network.underlay_mtu.is_none());
    // Scaleway instances have no local disks in the catalogue and Hafen renders no Scaleway
    // CSI: no storage is invented, the plan says it is blocked.
    let nbg = spec.cluster("prod-nbg").unwrap_or_else(|| panic!("prod-nbg"));
    assert_ne!(nbg.storage.as_ref().map(|s| s.default), Some(hafen_spec::StorageDriver::Piraeus));
    assert!(
        x.review.iter().any(|r| r.severity == "blocker" && r.path == "spec.clusters[0].storage")
    );
    // A credential placeholder for the new provider, named in the steps.
    let scw = spec.provider("scaleway").unwrap_or_else(|| panic!("provider"));
    let cred = scw.credentials.first().unwrap_or_else(|| panic!("no credential"));
    assert_eq!(cred.secret_ref.name, "scaleway");
    assert_eq!(cred.delivered_to, vec!["management".to_owned()]);
    assert!(x.steps[0].detail.contains("secret `scaleway`"), "{}", x.steps[0].detail);
    // Hetzner Cloud's egress IPs cannot come along.
    assert!(nbg.network.egress.as_ref().is_none_or(|e| e.ips.is_empty()));
    // The findings are exactly what the real check says about the retargeted spec.
    let real: Vec<String> = hafen_check::check(&after, &hafen_check::Options::default())
        .iter()
        .filter(|d| d.suppressed.is_none())
        .map(|d| d.code.to_owned())
        .collect();
    let reported: Vec<String> = x.findings.iter().map(|f| f.code.clone()).collect();
    assert_eq!(reported, real);
    assert!(reported.contains(&"EGR001".to_owned()), "stable-IP apps lost their addresses");
}

#[test]
fn moving_the_metal_site_to_the_cloud_moves_its_backups_consistently() {
    let x = exit("fsn1-metal", "hcloud");
    assert_eq!(x.error, None);
    let after = retargeted(&x);
    let spec = &after.platform.spec;
    let nbg = spec.cluster("prod-nbg").unwrap_or_else(|| panic!("prod-nbg"));
    let b = nbg.backups.as_ref().unwrap_or_else(|| panic!("backups"));
    assert_eq!(b.site.as_deref(), Some("fsn1-hcloud"));
    assert_eq!(b.provider.as_deref(), Some("hcloud"), "no `provider: robot` on a cloud site");
    // Same company, same location: the Falkenstein object storage endpoint still holds.
    assert_eq!(b.endpoint.as_deref(), Some("https://fsn1.your-objectstorage.com"));
    assert!(!x.data.iter().any(|d| d.app == "backups"), "{:?}", x.data);
    // Hetzner Cloud storage from the catalogue: its volumes.
    let fsn = spec.cluster("prod-fsn").unwrap_or_else(|| panic!("prod-fsn"));
    assert_eq!(
        fsn.storage.as_ref().map(|s| s.default),
        Some(hafen_spec::StorageDriver::HcloudVolumes)
    );
    // The dedicated provider has nothing left and goes, with its account-wide credential.
    assert!(spec.provider("robot").is_none());
    assert!(x.review.iter().any(|r| r.message.contains("`robot` is no longer used")));
}

#[test]
fn moving_to_a_provider_with_local_disks_gives_replicated_storage_on_storage_nodes() {
    let x = exit("hcloud", "robot");
    let after = retargeted(&x);
    let nbg = after.platform.spec.cluster("prod-nbg").unwrap_or_else(|| panic!("prod-nbg"));
    assert_eq!(nbg.storage.as_ref().map(|s| s.default), Some(hafen_spec::StorageDriver::Piraeus));
    let workers =
        nbg.node_pools.iter().find(|p| p.name == "workers").unwrap_or_else(|| panic!("workers"));
    assert!(workers.roles().contains(&hafen_spec::NodeRole::Storage), "{:?}", workers.roles);
    // The target already has its credential: none is invented.
    assert!(!x.review.iter().any(|r| r.message.contains("placeholder credential")));
}

#[test]
fn an_unknown_source_gets_a_suggestion() {
    let x = exit("hclod", "scaleway");
    let e = x.error.unwrap_or_default();
    assert!(e.contains("did you mean `hcloud`?"), "{e}");
    let x = exit("hcloud", "stackitt");
    let e = x.error.unwrap_or_default();
    assert!(e.contains("did you mean `stackit`?"), "{e}");
}

#[test]
fn a_shared_volume_moves_once_and_per_replica_volumes_once_per_replica() {
    let moved = |shared: bool| -> u64 {
        let text = example().replacen(
            "          domains: [shop.example.eu]\n",
            &format!(
                "          domains: [shop.example.eu]\n          volumes: [{{ name: uploads, size: 100Gi, mountPath: /srv/uploads, shared: {shared} }}]\n"
            ),
            1,
        );
        let options = Options {
            samples: 0,
            exit: Some(("hcloud".into(), "scaleway".into())),
            ..Options::default()
        };
        let r = hafen_plan::plan(&load(&text), &options, &mut |_, _| {});
        let x = r.exit.unwrap_or_else(|| panic!("no exit plan"));
        let rows: Vec<_> = x.data.iter().filter(|d| d.volume == "uploads").collect();
        assert!(!rows.is_empty(), "uploads is data to move: {:?}", x.data);
        rows.iter().map(|d| d.bytes).sum()
    };
    let gib100 = 100 * 1024 * 1024 * 1024;
    assert_eq!(moved(true), gib100, "one shared copy");
    assert_eq!(moved(false), 3 * gib100, "one claim per storefront replica");
}
