//! Deterministic test and benchmark data shaped like the plugin's e2e files (spec §8.1–§8.2): airports
//! (1 node + 2 related nodes + 2 relationships per row) and players (additional labels, trimmed keys),
//! with the expected graph computed here, from the same loop that writes the rows.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

/// The graph an airports load must leave.
#[derive(Debug, Clone)]
pub struct AirportsExpect {
    pub airports: usize,
    pub countries: usize,
    pub regions: usize,
    /// WITHIN relationships: one to a country and one to a region per airport.
    pub within: usize,
    /// One airport: (identifier as stored, country code as stored, name, elevation, local_code).
    pub sample: (String, String, String, String, String),
}

/// The graph a players load must leave.
#[derive(Debug, Clone)]
pub struct PlayersExpect {
    pub players: usize,
    pub positions: usize,
    pub places: usize,
    pub teams: usize,
    /// One player: (player_id, name, team as stored).
    pub sample: (String, String, String),
}

const COUNTRIES: &[&str] = &[
    "US", "PR", "MH", "CA", "GB", "DE", "FR", "JP", "BR", "AU", "NZ", "IS",
];

/// Writes `n` airport rows (columns of the e2e `airport-codes.csv`) and returns the expected graph.
pub fn write_airports_csv(path: &Path, n: usize) -> std::io::Result<AirportsExpect> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        out,
        "ident,type,name,elevation_ft,continent,iso_country,iso_region,municipality,gps_code,iata_code,local_code,coordinates"
    )?;
    let (mut countries, mut regions) = (BTreeSet::new(), BTreeSet::new());
    let mut sample = None;
    for i in 0..n {
        // Upper-case identifiers: keys are lower-cased by the interpreter, local_code (a property) is not.
        let ident = format!("{}{:06}X", ["K", "PA", "Z"][i % 3], i);
        let country = COUNTRIES[(i * 7 + i / 13) % COUNTRIES.len()];
        let region = format!("{country}-R{:02}", (i * 11) % 17);
        let name = format!("Airport {i} \"Heliport\", Area Iii");
        let elevation = ((i * 37) % 9000).to_string();
        let iata = if i % 4 == 0 {
            String::new()
        } else {
            format!("I{}", i % 1000)
        };
        countries.insert(country.to_lowercase());
        regions.insert(region.to_lowercase());
        if i == n / 2 {
            sample = Some((
                ident.to_lowercase(),
                country.to_lowercase(),
                name.clone(),
                elevation.clone(),
                ident.clone(),
            ));
        }
        writeln!(
            out,
            "{ident},heliport,\"{}\",{elevation},NA,{country},{region},Town {i},{ident},{iata},{ident},\"-75.{i}, 40.{i}\"",
            name.replace('"', "\"\"")
        )?;
    }
    out.flush()?;
    Ok(AirportsExpect {
        airports: n,
        countries: countries.len(),
        regions: regions.len(),
        within: 2 * n,
        sample: sample.unwrap_or_default(),
    })
}

/// Writes `n` player rows (columns of the e2e fifa file; teams with a trailing space) and returns the graph.
pub fn write_players_csv(path: &Path, n: usize) -> std::io::Result<PlayersExpect> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        out,
        "player_id,name,nationality,position,overall,age,hits,potential,team"
    )?;
    let (mut positions, mut places, mut teams) =
        (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let mut sample = None;
    for i in 0..n {
        let id = (200_000 + i * 3).to_string();
        let name = format!("Player {i} Name");
        let nationality = format!("Country {}", i % 28);
        let position =
            ["ST|RW", "GK", "CB", "LW|ST", "CAM"][i % 5].to_string() + &"|CM".repeat(i % 8);
        let team = format!("Team {} FC ", i % 26);
        positions.insert(position.clone());
        places.insert(nationality.clone());
        teams.insert(team.trim().to_string());
        if i == n / 2 {
            sample = Some((id.clone(), name.clone(), team.trim().to_string()));
        }
        writeln!(
            out,
            "{id},{name},{nationality},{position},{},{},{},{},{team}",
            60 + i % 30,
            18 + i % 20,
            i % 100,
            70 + i % 25
        )?;
    }
    out.flush()?;
    Ok(PlayersExpect {
        players: n,
        positions: positions.len(),
        places: places.len(),
        teams: teams.len(),
        sample: sample.unwrap_or_default(),
    })
}

/// The airports pipeline (same shape as the e2e `airports.yaml`), with labels prefixed by `p`.
pub fn airports_pipeline(p: &str, csv: &Path) -> String {
    format!(
        r#"- implementation: nodestream.pipeline.extractors:FileExtractor
  factory: local
  arguments:
    globs:
      - {csv}
- implementation: nodestream.interpreting:Interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: {p}Airport
        key:
          identifier: !jmespath ident
        properties:
          name: !jmespath name
          elevation_in_feet: !jmespath elevation_ft
          iata_code: !jmespath iata_code
          local_code: !jmespath local_code
      - type: relationship
        node_type: {p}Country
        relationship_type: {p}WITHIN
        node_key:
          code: !jmespath iso_country
      - type: relationship
        node_type: {p}Region
        relationship_type: {p}WITHIN
        node_key:
          code: !jmespath iso_region
"#,
        csv = csv.display()
    )
}

/// The players pipeline (same shape as the e2e fifa pipeline), with labels prefixed by `p`.
pub fn players_pipeline(p: &str, csv: &Path) -> String {
    format!(
        r#"- implementation: nodestream.pipeline.extractors:FileExtractor
  factory: local
  arguments:
    globs:
      - {csv}
- implementation: nodestream.interpreting:Interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: {p}Player
        additional_types:
          - {p}Person
        key:
          player_id: !jmespath player_id
        properties:
          name: !jmespath name
          overall: !jmespath overall
          age: !jmespath age
          hits: !jmespath hits
          potential: !jmespath potential
      - type: relationship
        node_type: {p}Team
        relationship_type: {p}PLAYS_FOR
        node_key:
          name: !jmespath team
        key_normalization:
          do_trim_whitespace: true
          do_lowercase_strings: false
      - type: relationship
        node_type: {p}PlaceOfOrigin
        relationship_type: {p}ORIGINATES_FROM
        node_key:
          name: !jmespath nationality
        key_normalization:
          do_lowercase_strings: false
      - type: relationship
        node_type: {p}Position
        relationship_type: {p}LINES_UP_AT
        node_key:
          name: !jmespath position
        key_normalization:
          do_lowercase_strings: false
"#,
        csv = csv.display()
    )
}
