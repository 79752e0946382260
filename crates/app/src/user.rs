//! `jiuzhu user`: the accounts made at installation. The system, security and audit
//! administrators' accounts are made and changed here only, by whoever runs the platform, so
//! that no administrator can make or silence another (三权分立).

use anyhow::{Context, Result};
use clap::Subcommand;
use jiuzhu_services::auth::UserInput;
use jiuzhu_services::{Actor, Services};
use rand::distributions::{Alphanumeric, DistString};

#[derive(Subcommand)]
pub enum Command {
    /// Make an account and print its initial password (to be changed at first sign-in).
    Add {
        #[arg(long)]
        username: String,
        /// The person's name as shown in the platform.
        #[arg(long)]
        name: String,
        /// bureau_admin (系统管理员), security_admin (安全管理员), auditor (审计员), or any
        /// other role.
        #[arg(long)]
        role: String,
        /// Division code of the user's region; the county when left out.
        #[arg(long)]
        region: Option<String>,
        /// Department code, for a department liaison.
        #[arg(long)]
        department: Option<String>,
    },
    /// Enable or disable an account by its username.
    SetActive {
        #[arg(long)]
        username: String,
        /// true or false.
        #[arg(long, action = clap::ArgAction::Set)]
        active: bool,
    },
    /// Unbind an administrator's authenticator (a lost or replaced phone): a new one is bound
    /// at the next sign-in.
    ResetTwoFactor {
        #[arg(long)]
        username: String,
    },
}

pub async fn run(services: &Services, command: Command) -> Result<()> {
    let county = services
        .regions()
        .county()
        .await?
        .context("数据库中没有区划：请先运行 jiuzhu demo 或导入区划")?;
    let installer = Actor::installer(county.clone());
    match command {
        Command::Add {
            username,
            name,
            role,
            region,
            department,
        } => {
            // Letters and digits, as the password rules ask.
            let password = format!(
                "{}7a",
                Alphanumeric.sample_string(&mut rand::thread_rng(), 14)
            );
            let user = services
                .users()
                .create(
                    &installer,
                    &UserInput {
                        username,
                        display_name: name,
                        role,
                        region_code: region.unwrap_or_else(|| county.to_string()),
                        department_code: department,
                        password: password.clone(),
                        system_account: false,
                        organisation_id: None,
                    },
                )
                .await?;
            println!(
                "已创建账号 {}（{}，{}），初始密码：{password}",
                user.username, user.display_name, user.role_label
            );
        }
        Command::SetActive { username, active } => {
            let user = services
                .users()
                .list(&installer)
                .await?
                .into_iter()
                .find(|u| u.username == username)
                .with_context(|| format!("没有用户 {username}"))?;
            services
                .users()
                .set_active(&installer, user.id, active)
                .await?;
            println!("已{}账号 {username}", if active { "启用" } else { "停用" });
        }
        Command::ResetTwoFactor { username } => {
            services
                .users()
                .reset_second_factor(&installer, &username)
                .await
                .map_err(|e| match e {
                    jiuzhu_services::ServiceError::NotFound => {
                        anyhow::anyhow!("没有用户 {username}")
                    }
                    e => e.into(),
                })?;
            println!("已解除 {username} 的动态口令绑定；其下次登录时重新绑定");
        }
    }
    Ok(())
}
